import { Worker } from "node:worker_threads";

/** One `/healthz` request: when it was due (epoch ms), how long until it answered, and whether it did. */
export interface HealthzSample {
  dueAt: number;
  latencyMs: number;
  ok: boolean;
}

/** A running probe; `stop()` waits for requests still in flight and returns every sample. */
export interface HealthzProbe {
  stop(): Promise<HealthzSample[]>;
}

// Plain JavaScript evaluated in a worker thread: a poller on the server's own event loop would be
// starved exactly when the server is, and would under-report the stall it is there to measure.
// The poller is open-loop (a request is due every interval whether or not the last one answered)
// and latency is counted from when a request was due, so one long stall shows up as every request
// it delayed, not as a single slow sample (no coordinated omission).
const POLLER = `
const { parentPort, workerData } = require("node:worker_threads");
const { url, intervalMs, timeoutMs } = workerData;
const now = () => performance.timeOrigin + performance.now();
const samples = [];
const inFlight = new Set();
let next = now();
let timer;
const tick = () => {
  const t = now();
  // A late timer still owes every request that fell due meanwhile.
  while (next <= t) {
    const dueAt = next;
    next += intervalMs;
    const request = fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
      .then(async (res) => { await res.arrayBuffer(); return res.status === 200; }, () => false)
      .then((ok) => { samples.push({ dueAt, latencyMs: now() - dueAt, ok }); });
    inFlight.add(request);
    void request.finally(() => inFlight.delete(request));
  }
  timer = setTimeout(tick, Math.max(0, next - now()));
};
parentPort.on("message", async (message) => {
  if (message !== "stop") return;
  clearTimeout(timer);
  await Promise.all([...inFlight]);
  parentPort.postMessage(samples);
});
tick();
parentPort.postMessage("started");
`;

/**
 * Polls `url` every `intervalMs` from a worker thread until stopped. Requests that take longer
 * than `timeoutMs` count as failed at that latency.
 */
export async function startHealthzProbe(url: string, intervalMs = 20, timeoutMs = 30_000): Promise<HealthzProbe> {
  const worker = new Worker(POLLER, { eval: true, workerData: { url, intervalMs, timeoutMs } });
  await new Promise<void>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", () => resolve());
  });
  return {
    stop: async () => {
      const samples = new Promise<HealthzSample[]>((resolve, reject) => {
        worker.once("error", reject);
        worker.once("message", (message: HealthzSample[]) => resolve(message));
      });
      worker.postMessage("stop");
      try {
        return await samples;
      } finally {
        await worker.terminate();
      }
    },
  };
}

const POSTER = `
const { parentPort, workerData } = require("node:worker_threads");
const now = () => performance.timeOrigin + performance.now();
const startedAt = now();
fetch(workerData.url, { method: "POST", headers: { "content-type": "application/json" }, body: workerData.body })
  .then(async (res) => ({ status: res.status, text: await res.text() }))
  .then(
    (r) => parentPort.postMessage({ ...r, startedAt, endedAt: now() }),
    (e) => parentPort.postMessage({ status: 0, text: String(e), startedAt, endedAt: now() }),
  );
`;

/** A request made off the main thread: its status, body, and when it was sent and answered (epoch ms). */
export interface OffThreadResponse {
  status: number;
  text: string;
  startedAt: number;
  endedAt: number;
}

/**
 * POSTs a JSON `body` to `url` from a worker thread, so when the server answers is measured by a
 * client whose own event loop is not the server's (an in-process client reads the answer only
 * when the server's loop turns).
 */
export async function postOffThread(url: string, body: string): Promise<OffThreadResponse> {
  const worker = new Worker(POSTER, { eval: true, workerData: { url, body } });
  try {
    return await new Promise<OffThreadResponse>((resolve, reject) => {
      worker.once("error", reject);
      worker.once("message", (message: OffThreadResponse) => resolve(message));
    });
  } finally {
    await worker.terminate();
  }
}
