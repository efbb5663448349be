import { z } from "zod";

/**
 * Zod building blocks for client input that Suture stores. Whatever a client sends is either
 * refused with a message naming the field, or storable as it is: PostgreSQL cannot store a NUL
 * character in `text`, nor a NUL or an unpaired UTF-16 surrogate in `jsonb`, and `timestamptz`
 * has a narrower range of years and UTC offsets than ISO 8601. Every bound is documented in
 * docs/api.md.
 */

/** A UTF-16 surrogate without its partner (JSON's `\ud800` escapes can produce one). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Whether PostgreSQL can store the text unchanged, as text and inside jsonb: no NUL, no lone surrogate. */
export function isStorableText(value: string): boolean {
  return !value.includes("\0") && !LONE_SURROGATE.test(value);
}

/** The message for text that cannot be stored. */
export const UNSTORABLE_TEXT = "expected text without NUL characters or unpaired UTF-16 surrogates";

/** Text of at most `max` characters that can be stored; `what` names it in the message ("a label value"). */
export function storableText(max: number, what = "text"): z.ZodString {
  return z.string().max(max, `expected ${what} of at most ${max} characters`).refine(isStorableText, UNSTORABLE_TEXT);
}

/** Earliest and latest instants accepted, and the widest UTC offset (real offsets run from -12:00 to +14:00). */
export const INSTANT_BOUNDS = { earliest: "1970-01-01T00:00:00Z", latest: "9999-12-31T23:59:59.999Z", maxOffsetMinutes: 14 * 60 } as const;

const OFFSET = /(?:([+-])(\d{2}):?(\d{2})|Z)$/i;

/** Whether an ISO 8601 date-time (already valid as such) lies within {@link INSTANT_BOUNDS}. */
export function isStorableInstant(value: string): boolean {
  const offset = OFFSET.exec(value);
  if (offset?.[1] !== undefined && Number(offset[2]) * 60 + Number(offset[3]) > INSTANT_BOUNDS.maxOffsetMinutes) return false;
  const t = Date.parse(value);
  return !Number.isNaN(t) && t >= Date.parse(INSTANT_BOUNDS.earliest) && t <= Date.parse(INSTANT_BOUNDS.latest);
}

/** An ISO 8601 date-time with a UTC offset (or Z), within years 1970–9999 and an offset within ±14:00. */
export function storableInstant(): z.ZodType<string> {
  return z.iso
    .datetime({ offset: true })
    .refine(isStorableInstant, `expected a time from ${INSTANT_BOUNDS.earliest.slice(0, 10)} to ${INSTANT_BOUNDS.latest.slice(0, 10)} with a UTC offset within ±14:00`);
}
