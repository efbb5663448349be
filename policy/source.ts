import { unwatchFile, watchFile } from "node:fs";
import type { FileLimits } from "../domain/yaml.js";
import { loadPolicy } from "./load.js";
import type { PolicyHolder } from "./policy.js";
import type { Policy } from "./schema.js";

/** The result of re-reading a policy file. */
export type ReloadResult = { ok: true; changed: boolean } | { ok: false; error: string };

/**
 * A policy file that can be reloaded while Suture runs. A reload that fails validation keeps the
 * last good policy in force and reports why; nothing half-loaded is ever used. Every read goes
 * through the policy file limits, so a huge or hostile file is refused before it is read.
 */
export class PolicyFile implements PolicyHolder {
  private good: Policy;
  private text: string;
  /** Why the last reload failed, until one succeeds. */
  lastError: string | undefined;
  /** The reload in progress: reloads run one at a time so an older read never replaces a newer one. */
  private reloading: Promise<ReloadResult> | undefined;

  private constructor(
    readonly file: string,
    policy: Policy,
    private readonly limits?: Partial<FileLimits>,
  ) {
    this.good = policy;
    this.text = JSON.stringify(policy);
  }

  /** Loads the file; an invalid file at start is an error (there is no last good policy yet). */
  static async open(file: string, limits?: Partial<FileLimits>): Promise<PolicyFile> {
    return new PolicyFile(file, await loadPolicy(file, limits), limits);
  }

  /** The policy in force. */
  current(): Policy {
    return this.good;
  }

  /** Re-reads the file; on failure the previous policy stays in force. */
  async reload(): Promise<ReloadResult> {
    const previous = this.reloading ?? Promise.resolve(undefined);
    const next = previous.then(() => this.readAgain());
    this.reloading = next;
    try {
      return await next;
    } finally {
      if (this.reloading === next) this.reloading = undefined;
    }
  }

  private async readAgain(): Promise<ReloadResult> {
    try {
      const next = await loadPolicy(this.file, this.limits);
      const text = JSON.stringify(next);
      const changed = text !== this.text;
      this.good = next;
      this.text = text;
      this.lastError = undefined;
      return { ok: true, changed };
    } catch (error) {
      this.lastError = (error as Error).message;
      return { ok: false, error: this.lastError };
    }
  }

  /** Reloads whenever the file changes (polled, so editors that replace the file are seen); returns a stop function. */
  watch(onReload: (result: ReloadResult) => void, intervalMs = 1000): () => void {
    const listener = (): void => {
      void this.reload().then(onReload);
    };
    watchFile(this.file, { interval: intervalMs, persistent: false }, listener);
    return () => unwatchFile(this.file, listener);
  }
}
