import { createHash } from "node:crypto";
import { OpenAIEmbeddings } from "@langchain/openai";

/**
 * Vector size of every embedding Suture stores. 384 is the size of the common small sentence
 * encoders (all-MiniLM-L6-v2, bge-small, e5-small) that an OpenAI-compatible server can serve,
 * and OpenAI's text-embedding-3 models can be asked for it (`dimensions`). For the offline hashing
 * embedder, an incident text has a few hundred distinct features, so 384 signed buckets keep
 * collisions to noise while HNSW search stays cheap (memory and distance cost grow with it).
 */
export const EMBEDDING_DIMENSIONS = 384;

/** A text with a weight: titles and alert names count more than free text. */
export interface WeightedText {
  text: string;
  weight: number;
}

/** Turns texts into unit vectors of {@link EMBEDDING_DIMENSIONS}. */
export interface Embedder {
  /** Identity recorded with the vectors, e.g. `hashing-v1` or `openai:text-embedding-3-small`. */
  readonly id: string;
  readonly dimensions: number;
  embed(documents: WeightedText[][]): Promise<number[][]>;
}

const STOPWORDS = new Set("a an and are as at be by for from has in is it its of on or that the this to was were will with".split(" "));

/** Splits camelCase and punctuation, lower-cases, drops stop words and pure numbers. */
export function tokenize(text: string): string[] {
  return text
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter((t) => t.length > 1 && !STOPWORDS.has(t) && !/^\d+$/.test(t));
}

function bucket(feature: string): { index: number; sign: number } {
  const digest = createHash("md5").update(feature).digest();
  return { index: digest.readUInt32LE(0) % EMBEDDING_DIMENSIONS, sign: (digest[4] ?? 0) & 1 ? 1 : -1 };
}

/**
 * The offline default: feature hashing of word unigrams, word bigrams and character trigrams,
 * each feature added with a hashed sign (so vectors are centred, as HNSW needs), sub-linear term
 * frequency, field weights, then L2 normalization. Deterministic, no network, no model files.
 */
export class HashingEmbedder implements Embedder {
  readonly id = "hashing-v1";
  readonly dimensions = EMBEDDING_DIMENSIONS;

  /** Embeds one weighted document synchronously. */
  embedOne(fields: WeightedText[]): number[] {
    const counts = new Map<string, number>();
    const add = (feature: string, weight: number): void => {
      counts.set(feature, (counts.get(feature) ?? 0) + weight);
    };
    for (const { text, weight } of fields) {
      const tokens = tokenize(text);
      tokens.forEach((t, i) => {
        add(`w:${t}`, weight);
        const next = tokens[i + 1];
        if (next !== undefined) add(`b:${t}_${next}`, 0.7 * weight);
        const padded = `^${t}$`;
        for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, 0.25 * weight);
      });
    }
    const vector = new Array<number>(EMBEDDING_DIMENSIONS).fill(0);
    for (const [feature, tf] of counts) {
      const { index, sign } = bucket(feature);
      vector[index] = (vector[index] ?? 0) + sign * Math.log1p(tf);
    }
    const norm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0));
    return norm === 0 ? vector : vector.map((v) => v / norm);
  }

  async embed(documents: WeightedText[][]): Promise<number[][]> {
    return documents.map((d) => this.embedOne(d));
  }
}

/** Configuration of a remote, OpenAI-compatible embedding model. */
export interface OpenAIEmbedderOptions {
  apiKey: string;
  model?: string;
  baseURL?: string;
}

/** Embeddings from an OpenAI (or OpenAI-compatible) server, asked for 384 dimensions. */
export class OpenAIEmbedder implements Embedder {
  readonly id: string;
  readonly dimensions = EMBEDDING_DIMENSIONS;
  private readonly client: OpenAIEmbeddings;

  constructor(options: OpenAIEmbedderOptions) {
    const model = options.model ?? "text-embedding-3-small";
    this.id = `openai:${model}@${EMBEDDING_DIMENSIONS}`;
    this.client = new OpenAIEmbeddings({
      apiKey: options.apiKey,
      model,
      dimensions: EMBEDDING_DIMENSIONS,
      ...(options.baseURL !== undefined ? { configuration: { baseURL: options.baseURL } } : {}),
    });
  }

  async embed(documents: WeightedText[][]): Promise<number[][]> {
    // A remote model reads plain text; field weights become repetition of the weighty fields.
    const texts = documents.map((d) => d.flatMap((f) => Array<string>(Math.max(1, Math.round(f.weight))).fill(f.text)).join("\n"));
    const vectors = await this.client.embedDocuments(texts);
    for (const v of vectors) {
      if (v.length !== EMBEDDING_DIMENSIONS) {
        throw new Error(`embedding model ${this.id} returned ${v.length} dimensions, expected ${EMBEDDING_DIMENSIONS}; choose a model that supports "dimensions"`);
      }
    }
    return vectors;
  }
}

/** The configured embedder: OpenAI-compatible when an API key is set, otherwise hashing. */
export function createEmbedder(env: { apiKey?: string; model?: string; baseURL?: string }): Embedder {
  if (env.apiKey !== undefined && env.apiKey !== "") {
    return new OpenAIEmbedder({ apiKey: env.apiKey, ...(env.model !== undefined ? { model: env.model } : {}), ...(env.baseURL !== undefined ? { baseURL: env.baseURL } : {}) });
  }
  return new HashingEmbedder();
}
