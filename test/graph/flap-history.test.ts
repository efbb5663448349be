import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runScenario } from "../../app/scenario-run.js";
import { testBackends } from "../helpers/backends.js";
import { openTestSuture, shippedScenario, type TestSuture } from "../helpers/suture.js";

describe.each(testBackends())("alert flap history, on $name", (backend) => {
  let t: TestSuture;

  beforeAll(async () => {
    t = await openTestSuture(backend);
  });
  afterAll(async () => {
    await t.suture.close();
  });

  it("counts each episode once: the same world played again (or a notification re-sent) does not add flaps", async () => {
    // Given a flapping alert's scenario
    const scenario = await shippedScenario("latency-flapping-threshold");
    const flaps = (run: Awaited<ReturnType<typeof runScenario>>): unknown => run.state.context?.evidence.find((e) => e.key === "alert.flaps")?.value;
    // When it is played once, then again in the same database (its notifications stored twice)
    const first = await runScenario(t.suture, scenario);
    const second = await runScenario(t.suture, scenario);
    // Then both runs count the same flaps and decide the same (before, the second counted the first run's notifications too)
    expect(flaps(first)).toBeGreaterThanOrEqual(2);
    expect(flaps(second)).toBe(flaps(first));
    expect(second.state.outcome?.status).toBe(first.state.outcome?.status);
  });
});
