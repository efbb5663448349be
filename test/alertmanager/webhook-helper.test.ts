import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { alertmanagerBinary, startAlertmanager, type RunningAlertmanager } from "../helpers/alertmanager.js";

/** One webhook delivery: the Authorization header and the parsed body. */
interface Delivery {
  authorization: string | undefined;
  body: { receiver: string; status: string; groupLabels: Record<string, string>; alerts: Array<{ status: string; labels: Record<string, string> }> };
}

const binary = alertmanagerBinary();

describe.skipIf(binary === undefined)(
  `test/helpers/alertmanager.ts with a webhook receiver${binary === undefined ? " (skipped: no prometheus-alertmanager binary; set ALERTMANAGER_BIN)" : ""}`,
  () => {
    const TOKEN = "intake-token-0123456789abcdef";
    const deliveries: Delivery[] = [];
    let server: http.Server;
    let am: RunningAlertmanager;

    beforeAll(async () => {
      server = http.createServer((req, res) => {
        let raw = "";
        req.on("data", (d: Buffer) => (raw += d.toString()));
        req.on("end", () => {
          deliveries.push({ authorization: req.headers.authorization, body: JSON.parse(raw) as Delivery["body"] });
          res.writeHead(202).end();
        });
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const { port } = server.address() as AddressInfo;
      am = await startAlertmanager({ webhookUrl: `http://127.0.0.1:${port}/v1/alerts/alertmanager`, webhookBearerToken: TOKEN, groupWait: "100ms", groupInterval: "1s", resolveTimeout: "1m" });
    });
    afterAll(async () => {
      await am?.stop();
      await new Promise<void>((resolve) => server?.close(() => resolve()));
    });

    it("Given an alert posted to Alertmanager When the group is due Then the webhook gets it with the bearer token from the credentials file, grouped by namespace and alertname", async () => {
      const labels = { alertname: "KubePodCrashLooping", namespace: "shop", pod: "checkout-7d9f8b6c5d-x2k4p", severity: "warning" };
      const posted = await fetch(`${am.url}/api/v2/alerts`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify([{ labels, annotations: { summary: "Pod is crash looping." }, startsAt: new Date().toISOString() }]),
      });
      expect(posted.status).toBe(200);
      for (let i = 0; i < 100 && deliveries.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(deliveries.length, am.output()).toBeGreaterThan(0);
      const first = deliveries[0]!;
      expect(first.authorization).toBe(`Bearer ${TOKEN}`);
      expect(first.body).toMatchObject({ receiver: "suture", status: "firing", groupLabels: { alertname: "KubePodCrashLooping", namespace: "shop" } });
      expect(first.body.alerts).toEqual([expect.objectContaining({ status: "firing", labels })]);
    });
  },
);
