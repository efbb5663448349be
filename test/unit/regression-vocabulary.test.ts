import { describe, expect, it } from "vitest";
import { SignatureVocabulary } from "../../regression/vocabulary.js";

describe("stable signature names across batches", () => {
  const reference = [
    "Accepted password for alice from 10.0.0.1 port 52011 ssh2",
    "Accepted password for bob from 10.0.0.2 port 40022 ssh2",
    "Accepted password for carol from 10.0.0.3 port 41234 ssh2",
    "Disconnected from 10.0.0.9 port 22",
  ];

  it("Given a vocabulary built from the baseline's lines, When a new line of a known template arrives alone, Then it gets the baseline's name, not a batch-of-one template", () => {
    const vocabulary = new SignatureVocabulary(reference);
    const [known] = vocabulary.signaturesOf(reference.slice(0, 1));
    // Alone, "dave" would be a literal word of its own template; with the exemplars it is a value.
    const [late] = vocabulary.signaturesOf(["Accepted password for dave from 10.0.0.4 port 50000 ssh2"]);
    expect(late).toBe(known);
    expect(known).toContain("<*>");
  });

  it("Given the same vocabulary, When a line unlike any known arrives, Then it becomes a new signature and keeps its name on later calls", () => {
    const vocabulary = new SignatureVocabulary(reference);
    const size = vocabulary.size;
    const [fresh] = vocabulary.signaturesOf(["TypeError: Cannot read properties of undefined (reading 'total') at CartService.total"]);
    expect(fresh).toBeDefined();
    expect(vocabulary.size).toBe(size + 1);
    expect(vocabulary.signaturesOf(["TypeError: Cannot read properties of undefined (reading 'total') at CartService.total"])).toEqual([fresh]);
  });
});
