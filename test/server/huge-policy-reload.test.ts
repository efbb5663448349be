import { mkdtemp, rename, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../app/config.js";
import { policyVersion } from "../../policy/policy.js";
import { startService, type RunningService } from "../../interfaces/service.js";
import { testBackends, type ProcessDatabase } from "../helpers/backends.js";
import { waitFor } from "../helpers/fleet.js";

const FIFTY_MB = 50 * 1024 * 1024;

/** A 50 MB policy: a plausible file (freeze windows) repeated until it is that large. */
async function writeHugePolicy(file: string): Promise<void> {
  const window = (i: number): string => `  - name: maintenance-${String(i).padStart(7, "0")}\n    timezone: Europe/Berlin\n    weekdays: [sat, sun]\n    from: "02:00"\n    to: "04:00"\n`;
  const chunk = Array.from({ length: 1000 }, (_, i) => window(i)).join("");
  const parts = ["autonomy:\n  default: auto\nfreezeWindows:\n"];
  let size = parts[0]!.length;
  while (size < FIFTY_MB) {
    parts.push(chunk);
    size += chunk.length;
  }
  await writeFile(file, parts.join("").slice(0, FIFTY_MB));
}

describe.each(testBackends())("a huge policy file while serving, on $name", (backend) => {
  let pd: ProcessDatabase | undefined;
  let service: RunningService | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await service?.close();
    service = undefined;
    await pd?.cleanup();
    pd = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it("keeps answering /healthz, reports the failed reload with the file and its size, and keeps the last good policy", async () => {
    // Given a server whose policy file says observe
    pd = await backend.forProcesses();
    dir = await mkdtemp(path.join(os.tmpdir(), "suture-huge-policy-"));
    const policyFile = path.join(dir, "policy.yaml");
    await writeFile(policyFile, "autonomy:\n  default: observe\n");
    service = await startService(loadConfig({ ...process.env, ...pd.env, SUTURE_POLICY: policyFile }), { migrate: true, serve: { host: "127.0.0.1", port: 0 } });
    const s = service;
    const url = s.url!;
    const good = policyVersion(s.suture.policy.policy);
    expect(s.suture.policy.policy.autonomy.default).toBe("observe");
    const failedReloads = async (): Promise<number> => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return Number(/suture_policy_reloads_total\{result="failed"\} (\d+)/.exec(text)?.[1] ?? 0);
    };

    // When a 50 MB policy is copied over it (written beside it, then moved into place whole)
    const huge = path.join(dir, "huge-policy.yaml");
    await writeHugePolicy(huge);
    expect((await stat(huge)).size).toBe(FIFTY_MB);
    await rename(huge, policyFile);

    // Then /healthz answers every 100 ms poll within 1 s while the watcher (1 s interval) picks
    // the file up, refuses it and polls again
    const latencies: number[] = [];
    const until = Date.now() + 4000;
    let reported = false;
    while (Date.now() < until || !reported) {
      const started = Date.now();
      const res = await fetch(`${url}/healthz`);
      latencies.push(Date.now() - started);
      expect(res.status).toBe(200);
      reported ||= (await failedReloads()) >= 1;
      if (Date.now() > until + 15_000) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const slowest = Math.max(...latencies);
    console.log(`[huge policy reload, ${backend.name}] ${latencies.length} /healthz polls, slowest ${slowest} ms`);
    expect(slowest, `slowest /healthz of ${latencies.length}`).toBeLessThan(1000);
    // And the failed reload is on /metrics, with the file and its size as the reason
    expect(reported).toBe(true);
    expect(s.suture.policyFile?.lastError).toBe(`${policyFile}: is ${FIFTY_MB} bytes, larger than the 262144-byte limit for a policy file`);
    // And the last good policy is still in force, also after a SIGHUP-style reload
    expect(s.suture.policy.policy.autonomy.default).toBe("observe");
    expect(await s.suture.policyFile!.reload()).toEqual({ ok: false, error: `${policyFile}: is ${FIFTY_MB} bytes, larger than the 262144-byte limit for a policy file` });
    expect(policyVersion(s.suture.policy.policy)).toBe(good);

    // When a good policy replaces the huge one, then the server still reloads it
    await writeFile(policyFile, "autonomy:\n  default: recommend\n");
    await waitFor(async () => s.suture.policy.policy.autonomy.default === "recommend", 10_000, "the good policy to be reloaded");
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  }, 90_000);
});
