import type { CoreV1Event } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { secretWarnings } from "../../environments/kubernetes/perception.js";

const NOW = Date.parse("2026-11-30T10:00:00Z");

/** A Warning (or Normal) event, `minutesAgo` before NOW, about an object in a namespace. */
function event(message: string, involved: { kind: string; namespace: string; name: string }, minutesAgo = 5, type = "Warning"): CoreV1Event {
  const at = new Date(NOW - minutesAgo * 60_000);
  return { metadata: { name: `e-${message.length}-${minutesAgo}`, namespace: involved.namespace }, involvedObject: involved, type, reason: "UpdateFailed", message, lastTimestamp: at };
}

describe("Warning events about a Secret a workload consumes (read from events; Secrets are never read)", () => {
  it("Given a denied sync reported in another namespace naming <namespace>/<secret>, When the workload consumes that Secret, Then it is a warning about it", () => {
    const events = [
      event("externalsecret game-economy/economy-pg-credentials: could not get secret data from provider", { kind: "Deployment", namespace: "external-secrets", name: "external-secrets" }),
    ];
    expect(secretWarnings(events, "game-economy", ["economy-pg-credentials"], NOW).map((e) => e.reason)).toEqual(["UpdateFailed"]);
  });

  it("Given an ExternalSecret named like the Secret in the workload's namespace, Then its Warning counts; a Pod of that name, a Normal event, another namespace's namesake or an event older than an hour do not", () => {
    const events = [
      event("SecretSyncedError: AccessDenied", { kind: "ExternalSecret", namespace: "shop", name: "db-creds" }),
      event("Back-off restarting failed container", { kind: "Pod", namespace: "shop", name: "db-creds" }),
      event("secret synced", { kind: "ExternalSecret", namespace: "shop", name: "db-creds" }, 5, "Normal"),
      event("SecretSyncedError: AccessDenied", { kind: "ExternalSecret", namespace: "billing", name: "db-creds" }),
      event("SecretSyncedError: shop/db-creds", { kind: "ExternalSecret", namespace: "shop", name: "db-creds" }, 90),
    ];
    expect(secretWarnings(events, "shop", ["db-creds"], NOW).map((e) => e.object)).toEqual(["externalsecret/db-creds"]);
    expect(secretWarnings(events, "shop", [], NOW)).toEqual([]);
  });
});
