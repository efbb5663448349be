import { describe, expect, it } from "vitest";
import { EMBEDDING_DIMENSIONS, HashingEmbedder, tokenize } from "../../memory/embeddings.js";

const embedder = new HashingEmbedder();
const cos = (a: number[], b: number[]): number => a.reduce((s, x, i) => s + x * (b[i] ?? 0), 0);
const one = (text: string): number[] => embedder.embedOne([{ text, weight: 1 }]);

describe("offline hashing embedder", () => {
  it("splits alert names the way people read them", () => {
    expect(tokenize("KubePodCrashLooping on checkout-7d9f")).toEqual(["kube", "pod", "crash", "looping", "checkout", "7d9f"]);
    expect(tokenize("HTTPServerErrors")).toEqual(["http", "server", "errors"]);
  });

  it("is deterministic, unit length and centred", () => {
    const a = one("KubePodCrashLooping pod crash looping in namespace shop");
    expect(a).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(one("KubePodCrashLooping pod crash looping in namespace shop")).toEqual(a);
    expect(Math.abs(cos(a, a) - 1)).toBeLessThan(1e-9);
    // Signed hashing keeps components on both sides of zero, as HNSW on cosine needs.
    expect(a.filter((x) => x > 0).length).toBeGreaterThan(5);
    expect(a.filter((x) => x < 0).length).toBeGreaterThan(5);
  });

  it("puts the same fault closer than a different one", () => {
    const crash = one("KubePodCrashLooping: pod checkout is crash looping after rollout; CrashLoopBackOff exec format error");
    const crashAgain = one("KubePodCrashLooping: pod payments crash looping, CrashLoopBackOff after deploy");
    const disk = one("NodeFilesystemSpaceFillingUp: filesystem on /var/log is predicted to run out of space");
    expect(cos(crash, crashAgain)).toBeGreaterThan(cos(crash, disk) + 0.2);
  });
});
