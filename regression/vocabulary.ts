import { z } from "zod";
import { InvalidInputError } from "../domain/errors.js";
import { formatZodError } from "../domain/problems.js";
import { signaturesOf } from "../evidence/signatures.js";

/** Distinct messages kept per signature to re-template new messages against. */
const EXEMPLARS_PER_SIGNATURE = 20;

/** A vocabulary's serialized form: the exemplars of each signature (what names new messages). */
export const VocabularySnapshotSchema = z
  .object({
    exemplars: z.record(
      z.string().min(1, "expected a signature"),
      z.array(z.string(), "expected a list of exemplar messages").max(EXEMPLARS_PER_SIGNATURE, `expected at most ${EXEMPLARS_PER_SIGNATURE} exemplars`),
    ),
  })
  .strict();

/** A serialized vocabulary. */
export type VocabularySnapshot = z.output<typeof VocabularySnapshotSchema>;

/**
 * Stable signatures across batches. `signaturesOf` templates a batch as a whole, so the same
 * message could read differently in two batches; a baseline and a watch must agree on names. The
 * vocabulary templates its reference messages once, then names a new message by templating it
 * together with up to 20 exemplars of every known signature: when it groups with known messages
 * it takes their signature (the most common one among them), otherwise it is a new signature,
 * named by its template in that batch. Every message's name is remembered.
 */
export class SignatureVocabulary {
  private readonly known = new Map<string, string>();
  private readonly exemplars = new Map<string, string[]>();

  /** A vocabulary from a batch of reference messages (e.g. the baseline window's lines). */
  constructor(referenceMessages: readonly string[] = []) {
    const distinct = [...new Set(referenceMessages)];
    const templates = signaturesOf(distinct);
    distinct.forEach((message, i) => this.remember(message, templates[i] ?? message));
  }

  /** A vocabulary from its serialized form; a bad one is refused with InvalidInputError naming the field. */
  static fromJSON(input: unknown): SignatureVocabulary {
    const parsed = VocabularySnapshotSchema.safeParse(input);
    if (!parsed.success) throw new InvalidInputError(`signature vocabulary: ${formatZodError(parsed.error)}`);
    const vocabulary = new SignatureVocabulary();
    for (const [signature, messages] of Object.entries(parsed.data.exemplars)) for (const m of messages) vocabulary.remember(m, signature);
    return vocabulary;
  }

  /** The serialized form: each signature's exemplars (enough to name new messages the same way). */
  toJSON(): VocabularySnapshot {
    return { exemplars: Object.fromEntries(this.exemplars) };
  }

  /** Up to `n` exemplar messages of a signature. */
  exemplarsOf(signature: string, n = EXEMPLARS_PER_SIGNATURE): string[] {
    return (this.exemplars.get(signature) ?? []).slice(0, n);
  }

  private remember(message: string, signature: string): void {
    this.known.set(message, signature);
    const list = this.exemplars.get(signature) ?? [];
    if (list.length < EXEMPLARS_PER_SIGNATURE) list.push(message);
    this.exemplars.set(signature, list);
  }

  /** How many signatures the vocabulary knows. */
  get size(): number {
    return this.exemplars.size;
  }

  /** Whether a signature name is known to the vocabulary. */
  has(signature: string): boolean {
    return this.exemplars.has(signature);
  }

  /** The signature of each message, in order; messages never seen before are templated in one batch. */
  signaturesOf(messages: readonly string[]): string[] {
    const unseen = [...new Set(messages.filter((m) => !this.known.has(m)))];
    if (unseen.length > 0) this.learn(unseen);
    return messages.map((m) => this.known.get(m) ?? m);
  }

  private learn(unseen: string[]): void {
    const reference = [...this.exemplars.values()].flat();
    const batch = [...reference, ...unseen];
    const templates = signaturesOf(batch);
    // For each template of the batch, the known signatures of the reference messages inside it.
    const votes = new Map<string, Map<string, number>>();
    reference.forEach((message, i) => {
      const template = templates[i] ?? message;
      const signature = this.known.get(message) ?? template;
      const tally = votes.get(template) ?? new Map<string, number>();
      tally.set(signature, (tally.get(signature) ?? 0) + 1);
      votes.set(template, tally);
    });
    unseen.forEach((message, j) => {
      const template = templates[reference.length + j] ?? message;
      const tally = votes.get(template);
      let best = template;
      if (tally !== undefined) {
        let most = 0;
        for (const [signature, n] of tally) {
          if (n > most || (n === most && signature < best)) [best, most] = [signature, n];
        }
      }
      this.remember(message, best);
    });
  }
}
