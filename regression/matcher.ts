import { SignatureVocabulary } from "./vocabulary.js";

/**
 * Recognises the lines of flagged signatures among new log lines: verification counts them after
 * a rollback (gone = the regression is gone). A vocabulary is built from the flagged exemplars, so
 * a new line takes a flagged signature's name exactly when it templates together with its exemplars.
 */
export class FlaggedLineMatcher {
  private readonly vocabulary: SignatureVocabulary;
  private readonly flaggedNames: Set<string>;

  /** A matcher for the signatures whose exemplar lines are given. */
  constructor(exemplars: readonly string[]) {
    this.vocabulary = new SignatureVocabulary(exemplars);
    this.flaggedNames = new Set(this.vocabulary.signaturesOf(exemplars));
  }

  /** How many of `messages` belong to a flagged signature. */
  count(messages: readonly string[]): number {
    if (messages.length === 0 || this.flaggedNames.size === 0) return 0;
    return this.vocabulary.signaturesOf(messages).filter((s) => this.flaggedNames.has(s)).length;
  }
}
