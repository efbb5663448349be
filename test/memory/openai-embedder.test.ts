import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EMBEDDING_DIMENSIONS, OpenAIEmbedder } from "../../memory/embeddings.js";

/** A local OpenAI-compatible embeddings endpoint: returns `dims`-long vectors and records requests. */
function embeddingsServer(dims: () => number): { server: Server; requests: Array<{ model: string; dimensions?: number; input: string[] }> } {
  const requests: Array<{ model: string; dimensions?: number; input: string[] }> = [];
  const server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      const parsed = JSON.parse(body) as { model: string; dimensions?: number; input: string[] | string };
      const input = Array.isArray(parsed.input) ? parsed.input : [parsed.input];
      requests.push({ model: parsed.model, ...(parsed.dimensions !== undefined ? { dimensions: parsed.dimensions } : {}), input });
      const data = input.map((text, index) => ({
        object: "embedding",
        index,
        embedding: Array.from({ length: dims() }, (_, i) => Math.sin(i + text.length) / Math.sqrt(dims())),
      }));
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ object: "list", data, model: parsed.model, usage: { prompt_tokens: 3, total_tokens: 3 } }));
    });
  });
  return { server, requests };
}

describe("OpenAI-compatible embedder over real HTTP", () => {
  let dims = EMBEDDING_DIMENSIONS;
  const { server, requests } = embeddingsServer(() => dims);
  let baseURL = "";

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("asks the configured model for 384 dimensions and returns its vectors", async () => {
    const embedder = new OpenAIEmbedder({ apiKey: "test-key", baseURL, model: "bge-small" });
    const [v] = await embedder.embed([
      [
        { text: "KubePodCrashLooping", weight: 3 },
        { text: "pod is crash looping", weight: 1 },
      ],
    ]);
    expect(v).toHaveLength(EMBEDDING_DIMENSIONS);
    expect(embedder.id).toBe("openai:bge-small@384");
    expect(requests[0]).toMatchObject({ model: "bge-small", dimensions: 384 });
    // Field weights become repetition: the alert name is sent three times
    expect(requests[0]?.input[0]?.split("KubePodCrashLooping").length).toBe(4);
  });

  it("rejects a model that ignores the requested dimensions, naming the fix", async () => {
    dims = 1536;
    const embedder = new OpenAIEmbedder({ apiKey: "test-key", baseURL, model: "no-dims-model" });
    await expect(embedder.embed([[{ text: "x", weight: 1 }]])).rejects.toThrow(/returned 1536 dimensions, expected 384; choose a model that supports "dimensions"/);
    dims = EMBEDDING_DIMENSIONS;
  });
});
