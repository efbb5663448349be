import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the scripted model sees of a request. */
export interface ChatRequest {
  model: string;
  messages: Array<{ role: string; content: string | null }>;
  response_format?: { type: string; json_schema?: { name: string } };
  tools?: Array<{ function: { name: string } }>;
  tool_choice?: { function?: { name: string } };
}

/** One scripted reply: a structured answer (sent in the request's style), raw content, an HTTP error, or silence. */
export type ScriptedReply = { answer: unknown } | { content: string } | { status: number; message?: string } | { hangMs: number };

/** A step of the script: a fixed reply or one computed from the request (e.g. to cite real evidence ids). */
export type ScriptStep = ScriptedReply | ((request: ChatRequest) => ScriptedReply);

/** A local OpenAI-compatible server (chat completions that play a script, deterministic embeddings), for tests of the real client over HTTP. */
export interface ScriptedModelServer {
  baseURL: string;
  requests: ChatRequest[];
  /** Replaces the script; each request takes the next step (the last one repeats). */
  play(steps: ScriptStep[]): void;
  close(): Promise<void>;
}

const USAGE = { prompt_tokens: 900, completion_tokens: 150, total_tokens: 1050 };

function reply(res: ServerResponse, request: ChatRequest, step: ScriptedReply): void {
  if ("hangMs" in step) {
    setTimeout(() => res.destroy(), step.hangMs);
    return;
  }
  if ("status" in step) {
    res.writeHead(step.status, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { message: step.message ?? `scripted ${step.status}`, type: "scripted", code: step.status } }));
    return;
  }
  const text = "answer" in step ? JSON.stringify(step.answer) : step.content;
  const toolName = request.tool_choice?.function?.name ?? request.tools?.[0]?.function.name;
  // The same answer, in the style the client asked for: a forced tool call, or JSON content.
  const message =
    toolName !== undefined && request.response_format === undefined
      ? { role: "assistant", content: null, tool_calls: [{ id: "call_1", type: "function", function: { name: toolName, arguments: text } }] }
      : { role: "assistant", content: text };
  res.writeHead(200, { "content-type": "application/json" });
  res.end(
    JSON.stringify({
      id: `chatcmpl-${Date.now()}`,
      object: "chat.completion",
      created: Math.floor(Date.now() / 1000),
      model: request.model,
      choices: [{ index: 0, message, finish_reason: "tool_calls" in message ? "tool_calls" : "stop" }],
      usage: USAGE,
    }),
  );
}

/**
 * A deterministic embedding for `/v1/embeddings` (so a config with OPENAI_API_KEY, which also
 * switches incident memory to OpenAI embeddings, runs end to end): hashed character trigrams,
 * normalized, so similar texts get similar vectors.
 */
function embed(text: string, dimensions: number): number[] {
  const v = new Array<number>(dimensions).fill(0);
  const t = text.toLowerCase();
  for (let i = 0; i + 3 <= t.length; i++) {
    let h = 2166136261;
    for (let j = i; j < i + 3; j++) h = Math.imul(h ^ t.charCodeAt(j), 16777619);
    v[(h >>> 0) % dimensions]! += 1;
  }
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

function replyEmbeddings(res: ServerResponse, body: { input: string | string[]; model: string; dimensions?: number; encoding_format?: string }): void {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const data = inputs.map((text, index) => {
    const vector = embed(text, body.dimensions ?? 384);
    const embedding = body.encoding_format === "base64" ? Buffer.from(new Float32Array(vector).buffer).toString("base64") : vector;
    return { object: "embedding", index, embedding };
  });
  res.writeHead(200, { "content-type": "application/json" });
  res.end(JSON.stringify({ object: "list", data, model: body.model, usage: { prompt_tokens: 8, total_tokens: 8 } }));
}

/** Starts the scripted model on a free local port. */
export async function startScriptedModel(): Promise<ScriptedModelServer> {
  let steps: ScriptStep[] = [];
  const requests: ChatRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString()));
    req.on("end", () => {
      if (req.url?.endsWith("/embeddings") === true) {
        replyEmbeddings(res, JSON.parse(body) as { input: string | string[]; model: string; dimensions?: number; encoding_format?: string });
        return;
      }
      const request = JSON.parse(body) as ChatRequest;
      requests.push(request);
      const step = steps.length > 1 ? steps.shift() : steps[0];
      if (step === undefined) {
        res.writeHead(500).end();
        return;
      }
      reply(res, request, typeof step === "function" ? step(request) : step);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    play(next) {
      steps = [...next];
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The id of the first evidence line in the prompt whose text matches `pattern`. */
export function evidenceId(request: ChatRequest, pattern: RegExp): string {
  const user = request.messages.find((m) => m.role === "user")?.content ?? "";
  const line = user.split("\n").find((l) => l.startsWith("- [ev-") && pattern.test(l));
  const id = /\[(ev-\d+)\]/.exec(line ?? "")?.[1];
  if (id === undefined) throw new Error(`no evidence line matches ${String(pattern)} in the prompt`);
  return id;
}

/** A model hypothesis: a new revision cannot pull its image, citing `evidenceIds`, proposing `call` (a rollback by default). */
export function imagePullHypothesis(evidenceIds: string[], call: { tool: string; params: Record<string, unknown> }) {
  return {
    faultClass: "bad-rollout",
    category: "deployment",
    title: "New revision cannot pull its image",
    confidence: 0.97,
    evidenceIds,
    disposition: "act",
    remediations: [{ ...call, rationale: "the previous revision's image exists" }],
    explanation: "Pods of the new revision are stuck pulling an image tag that does not exist.",
  };
}
