import { appendFile, mkdir } from "node:fs/promises";
import path from "node:path";
import type { Notification, Notifier } from "../domain/notification.js";

/** Appends notifications as JSON lines to a file (the default: `$SUTURE_HOME/notifications.jsonl`). */
export class FileNotifier implements Notifier {
  constructor(private readonly file: string) {}

  async notify(notification: Notification): Promise<void> {
    await mkdir(path.dirname(this.file), { recursive: true });
    await appendFile(this.file, `${JSON.stringify({ at: new Date().toISOString(), ...notification })}\n`);
  }
}

/** POSTs notifications as JSON to a webhook (Slack-compatible `text` field included). */
export class WebhookNotifier implements Notifier {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 5_000,
  ) {}

  async notify(notification: Notification): Promise<void> {
    const response = await fetch(this.url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: `[${notification.status}] ${notification.title}: ${notification.reason}`, ...notification }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!response.ok) throw new Error(`notification webhook answered ${response.status} ${response.statusText}`);
  }
}

/** Keeps notifications in memory (embedding Suture in another process, and tests). */
export class MemoryNotifier implements Notifier {
  readonly sent: Notification[] = [];

  async notify(notification: Notification): Promise<void> {
    this.sent.push(notification);
  }
}
