import type { FreezeWindow } from "./schema.js";

const WEEKDAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;
const formatters = new Map<string, Intl.DateTimeFormat>();

/** Weekday and minutes since midnight of an instant, in a time zone. */
export function zonedTime(at: number, timeZone: string): { weekday: (typeof WEEKDAYS)[number]; minutes: number; label: string } {
  let f = formatters.get(timeZone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat("en-US", { timeZone, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
    formatters.set(timeZone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(at)).map((p) => [p.type, p.value]));
  const weekday = (parts["weekday"] ?? "Sun").toLowerCase().slice(0, 3) as (typeof WEEKDAYS)[number];
  const hour = Number(parts["hour"] ?? 0);
  const minute = Number(parts["minute"] ?? 0);
  return { weekday, minutes: hour * 60 + minute, label: `${parts["weekday"] ?? ""} ${parts["hour"] ?? ""}:${parts["minute"] ?? ""} ${timeZone}` };
}

function minutesOf(hhmm: string): number {
  const [h = "0", m = "0"] = hhmm.split(":");
  return Number(h) * 60 + Number(m);
}

function previousDay(day: (typeof WEEKDAYS)[number]): (typeof WEEKDAYS)[number] {
  return WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7] ?? "sat";
}

/**
 * True when the window is in effect at `at`. A daily range whose end is not after its start runs
 * past midnight; its weekdays name the day it starts on.
 */
export function freezeActive(window: FreezeWindow, at: number): boolean {
  if (window.from !== undefined && window.to !== undefined && (at < Date.parse(window.from) || at >= Date.parse(window.to))) return false;
  const local = zonedTime(at, window.timezone);
  const onDay = (day: (typeof WEEKDAYS)[number]): boolean => window.weekdays === undefined || window.weekdays.includes(day);
  if (window.start === undefined || window.end === undefined) return onDay(local.weekday);
  const start = minutesOf(window.start);
  const end = minutesOf(window.end);
  if (start < end) return onDay(local.weekday) && local.minutes >= start && local.minutes < end;
  return (onDay(local.weekday) && local.minutes >= start) || (onDay(previousDay(local.weekday)) && local.minutes < end);
}

/** The window as operators wrote it, e.g. `fri–sun 18:00–08:00 Europe/Berlin`. */
export function describeFreeze(window: FreezeWindow): string {
  const days = window.weekdays !== undefined ? `${window.weekdays.join(",")} ` : "";
  const hours = window.start !== undefined ? `${window.start}–${window.end ?? ""} ` : "";
  const dates = window.from !== undefined ? `${window.from} → ${window.to ?? ""} ` : "";
  return `${days}${hours}${dates}${window.timezone}`.trim();
}
