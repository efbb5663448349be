import { describe, expect, it } from "vitest";
import type { ChangedFile } from "../../domain/deploys.js";
import { classifyChangedFile, opensIncident, triageDeploy, type ErrorSignature, type TriageVerdict } from "../../regression/triage.js";

/** A changed file; counts default to a small edit. */
function changed(path: string, added = 12, removed = 3, hunks?: string[]): ChangedFile {
  return { path, added, removed, ...(hunks !== undefined ? { hunks } : {}) };
}

/** A flagged signature with its raw exemplars; new unless said otherwise. */
function signature(exemplars: string[], seenBefore = false): ErrorSignature {
  return { signature: exemplars[0]?.slice(0, 60) ?? "sig", exemplars, seenBefore };
}

/** A deploy's changed files, with or without the migration flag. */
function deploy(changedFiles: ChangedFile[], migration?: boolean): { changedFiles: ChangedFile[]; migration?: boolean } {
  return migration === undefined ? { changedFiles } : { changedFiles, migration };
}

const UNRELATED = signature(["ECONNRESET: socket hang up while calling inventory-service"]);

describe("classifying changed files", () => {
  it("Given paths of every kind, When each is classified, Then docs, tests, CI, tooling, migrations and contracts are told from runtime code", () => {
    const kinds: Record<string, string> = {
      "README.md": "docs",
      "docs/runbook.rst": "docs",
      "guide/setup.adoc": "docs",
      CHANGELOG: "docs",
      "LICENSE-MIT": "docs",
      "assets/architecture.svg": "docs",
      "notes.txt": "docs",
      "requirements.txt": "runtime",
      "src/license.go": "runtime",
      "test/payments/charge.test.ts": "test",
      "src/payments/charge.spec.ts": "test",
      "src/__tests__/charge.ts": "test",
      "payments/charge_test.go": "test",
      "tests/test_charge.py": "test",
      "app/charge_test.py": "test",
      "src/main/java/com/shop/ChargeServiceTest.java": "test",
      "internal/testdata/order.json": "test",
      "spec/models/order_spec.rb": "test",
      ".github/workflows/deploy.yml": "ci",
      ".gitlab-ci.yml": "ci",
      ".circleci/config.yml": "ci",
      Jenkinsfile: "ci",
      "azure-pipelines-release.yml": "ci",
      ".buildkite/pipeline.yml": "ci",
      ".travis.yml": "ci",
      ".eslintrc.json": "tooling",
      "eslint.config.js": "tooling",
      ".prettierrc": "tooling",
      ".editorconfig": "tooling",
      ".gitignore": "tooling",
      CODEOWNERS: "tooling",
      ".vscode/settings.json": "tooling",
      "migrations/0042_add_currency.sql": "migration",
      "db/migrate/20261130_add_currency.rb": "migration",
      "alembic/versions/3f2a_add_currency.py": "migration",
      "src/main/resources/db/migration/V12__add_column.sql": "migration",
      "schema/orders.sql": "migration",
      "api/payments.proto": "contract",
      "idl/orders.thrift": "contract",
      "schemas/order.avsc": "contract",
      "graph/schema.graphql": "contract",
      "openapi.yaml": "contract",
      "docs/swagger-v2.json": "contract",
      "src/payments/charge.ts": "runtime",
      Dockerfile: "runtime",
      "package.json": "runtime",
      "queries/report.sql": "runtime",
    };
    const got = Object.fromEntries(Object.keys(kinds).map((path) => [path, classifyChangedFile(changed(path)).kind]));
    expect(got).toEqual(kinds);
  });

  it("Given a TypeScript hunk that only rewrites comments and a blank line, When classified, Then it is comments only", () => {
    const hunk = [
      "@@ -10,7 +10,8 @@ export function total(order: Order): number {",
      "-  // Sum the lines.",
      "+  // Sum the lines, tax included.",
      "+",
      "   /*",
      "-   * Old note.",
      "+   * New note.",
      "   */",
      "   return sum(order);",
    ].join("\n");
    const file = classifyChangedFile(changed("src/orders/total.ts", 3, 2, [hunk]));
    expect(file.kind).toBe("runtime");
    expect(file.commentsOnly).toBe(true);
  });

  it("Given a comment hunk whose file counts announce more lines than the hunks show, When classified, Then it is not comments only (the rest may be code)", () => {
    const hunk = "@@ -1,2 +1,2 @@\n-// old\n+// new\n const x = 1;";
    expect(classifyChangedFile(changed("src/a.ts", 1, 1, [hunk])).commentsOnly).toBe(true);
    expect(classifyChangedFile(changed("src/a.ts", 9, 1, [hunk])).commentsOnly).toBe(false);
    expect(classifyChangedFile(changed("src/a.ts", 9, 1)).commentsOnly).toBe(false);
  });

  it("Given lines that look like comments but are code (C preprocessor, a TS private field, a Go build tag), When classified, Then none is comments only", () => {
    expect(classifyChangedFile(changed("src/net.c", 1, 0, ["@@ -1,1 +1,2 @@\n+#include <poll.h>\n #include <stdio.h>"])).commentsOnly).toBe(false);
    expect(classifyChangedFile(changed("src/cart.ts", 1, 0, ["@@ -4,1 +4,2 @@ class Cart {\n+  #items = [];\n }"])).commentsOnly).toBe(false);
    expect(classifyChangedFile(changed("cmd/main.go", 1, 0, ["@@ -1,1 +1,2 @@\n+//go:build linux\n package main"])).commentsOnly).toBe(false);
  });

  it("Given SQL and Python hunks whose changes are comments and a docstring, When classified, Then both are comments only (a removed `-- x` line is not a file header)", () => {
    const sql = classifyChangedFile(changed("queries/report.sql", 1, 1, ["@@ -1,3 +1,3 @@\n--- monthly totals\n+-- monthly totals, in cents\n SELECT 1;"]));
    expect(sql.commentsOnly).toBe(true);
    const py = classifyChangedFile(
      changed("app/charge.py", 4, 0, ['@@ -9,2 +9,6 @@ def charge_card(order):\n+    """\n+    Charges the card on file.\n+    """\n+    # idempotent\n     return gateway.charge(order)']),
    );
    expect(py.commentsOnly).toBe(true);
  });

  it("Given hunks in several languages, When classified, Then the functions they touch come from headers and changed definitions, keywords and short names left out", () => {
    const ts = classifyChangedFile(
      changed("src/payments/charge.ts", 4, 1, [
        "@@ -80,6 +80,9 @@ export async function chargeCard(order) {\n   const a = 1;\n-  if (a) {\n+  if (order.amount) {\n+    log(a);\n",
        "@@ -120,2 +123,4 @@\n+export const refundCard = async (order: Order): Promise<void> => {\n+  await undo(order);\n",
      ]),
    );
    expect(ts.functions).toEqual(["chargeCard", "refundCard"]);
    const py = classifyChangedFile(changed("app/charge.py", 2, 0, ["@@ -1,2 +1,4 @@ class ChargeService:\n+    def charge_card(self, order):\n+        return order.total"]));
    expect(py.functions).toEqual(["ChargeService", "charge_card"]);
    const go = classifyChangedFile(changed("svc/charge.go", 1, 1, ["@@ -10,4 +10,4 @@ func (s *Svc) ChargeCard(ctx context.Context) error {\n-\tx := 1\n+\tx := 2"]));
    expect(go.functions).toEqual(["ChargeCard"]);
    const java = classifyChangedFile(changed("src/Charge.java", 1, 0, ["@@ -1,2 +1,3 @@ public class ChargeService {\n+    public Receipt charge(Order o) throws PaymentException {"]));
    expect(java.functions).toEqual(["ChargeService", "charge"]);
    // A callback passed to a call is not a definition; `if` is a keyword.
    const test = classifyChangedFile(changed("src/x.ts", 2, 0, ['@@ -1,1 +1,3 @@\n+describe("x", () => {\n+if (ready) {']));
    expect(test.functions).toEqual([]);
  });
});

describe("deploys that change nothing that runs", () => {
  it("Given a docs-only deploy and an unrelated new error, When triaged, Then it is no runtime change, confidence none, and no incident opens", () => {
    const v = triageDeploy(deploy([changed("README.md"), changed("docs/runbook.md")]), [UNRELATED]);
    expect(v.isRuntimeChange).toBe(false);
    expect(v.causalLink).toBe(false);
    expect(v.confidence).toBe("none");
    expect(v.score).toBe(0.05);
    expect(v.suspects).toEqual([]);
    expect(v.evidence[0]).toBe("2 files changed: 2 docs; no runtime code");
    expect(opensIncident(v)).toBe(false);
  });

  it("Given a tests-only deploy whose test file an error names, When triaged, Then confidence is none: a test file does not run in production", () => {
    const v = triageDeploy(deploy([changed("src/payments/charge.test.ts"), changed("tests/test_charge.py")]), [signature(["at it (src/payments/charge.test.ts:12:5)"])]);
    expect(v.isRuntimeChange).toBe(false);
    expect(v.confidence).toBe("none");
    expect(opensIncident(v)).toBe(false);
    expect(v.evidence[0]).toBe("2 files changed: 2 test; no runtime code");
  });

  it("Given a CI and tooling deploy, When triaged, Then confidence is none and the summary counts the kinds", () => {
    const v = triageDeploy(deploy([changed(".github/workflows/deploy.yml"), changed(".gitlab-ci.yml"), changed(".eslintrc.json")]), [UNRELATED]);
    expect(v.isRuntimeChange).toBe(false);
    expect(v.confidence).toBe("none");
    expect(v.evidence[0]).toBe("3 files changed: 2 ci, 1 tooling; no runtime code");
    expect(opensIncident(v)).toBe(false);
  });

  it("Given a .ts file whose hunk changes only a comment, and an error naming that file, When triaged, Then it is not a runtime change and no incident opens", () => {
    const v = triageDeploy(
      deploy([
        changed("src/payments/charge.ts", 1, 1, ["@@ -86,3 +86,3 @@ export async function chargeCard(order) {\n-  // charge once\n+  // charge exactly once\n   return gateway.charge(order);"]),
      ]),
      [signature(["TypeError: x at chargeCard (src/payments/charge.ts:88:13)"])],
    );
    expect(v.files[0]?.commentsOnly).toBe(true);
    expect(v.isRuntimeChange).toBe(false);
    expect(v.confidence).toBe("none");
    expect(v.evidence[0]).toBe("1 file changed: 1 runtime (comments only); no runtime code");
    expect(opensIncident(v)).toBe(false);
  });
});

describe("stack traces that name a changed file", () => {
  const cases: Array<{ language: string; path: string; exemplar: string }> = [
    { language: "TypeScript", path: "src/payments/charge.ts", exemplar: "TypeError: Cannot read properties of undefined (reading 'amount')\n    at chargeCard (src/payments/charge.ts:88:13)" },
    { language: "Python", path: "payments/charge.py", exemplar: "Traceback (most recent call last):\n  File \"/app/payments/charge.py\", line 88, in charge_card\nKeyError: 'amount'" },
    { language: "Java", path: "src/main/java/com/shop/payments/ChargeService.java", exemplar: "java.lang.NullPointerException\n\tat com.shop.payments.ChargeService.charge(ChargeService.java:88)" },
    { language: "Go", path: "payments/charge.go", exemplar: "panic: runtime error: invalid memory address or nil pointer dereference\n\t/go/src/shop/payments/charge.go:88 +0x1d" },
    { language: "Ruby", path: "app/models/order.rb", exemplar: "NoMethodError: undefined method `amount' for nil\napp/models/order.rb:12:in 'total'" },
  ];
  for (const { language, path, exemplar } of cases) {
    it(`Given a ${language} stack trace naming changed file ${path}, When triaged, Then confidence is high, the file is the suspect and an incident opens`, () => {
      const v = triageDeploy(deploy([changed(path), changed("README.md")]), [UNRELATED, signature([exemplar])]);
      expect(v.isRuntimeChange).toBe(true);
      expect(v.causalLink).toBe(true);
      expect(v.confidence).toBe("high");
      expect(v.score).toBe(0.95);
      expect(v.suspects.map((s) => s.path)).toEqual([path]);
      expect(v.evidence.some((e) => e.includes(path) && e.startsWith("new error"))).toBe(true);
      expect(opensIncident(v)).toBe(true);
    });
  }

  it("Given a TS source and a trace through webpack:/// and the built .js under /app/dist, When triaged, Then the path suffix still links it with high confidence", () => {
    const v = triageDeploy(deploy([changed("src/payments/charge.ts")]), [
      signature(["Error: declined\n    at chargeCard (webpack:///src/payments/charge.ts:88:13)"]),
      signature(["at chargeCard (/app/dist/payments/charge.js:70:9)"], true),
    ]);
    expect(v.confidence).toBe("high");
    expect(v.suspects[0]?.reasons).toEqual([
      'new error "Error: declined at chargeCard (webpack:///src/payments/charge.ts:88:13)" names changed file src/payments/charge.ts',
      'error "at chargeCard (/app/dist/payments/charge.js:70:9)" names changed file src/payments/charge.ts (as charge.js)',
    ]);
  });

  it("Given the TS example of the issue, When triaged, Then the evidence sentence quotes the error on one line and names the file with its line counts", () => {
    const v = triageDeploy(deploy([changed("src/payments/charge.ts", 12, 3)], false), [
      signature(["TypeError: Cannot read properties of undefined (reading 'amount')\n    at chargeCard (src/payments/charge.ts:88:13)"], true),
    ]);
    expect(v.evidence).toEqual([
      "1 file changed: 1 runtime",
      `error "TypeError: Cannot read properties of undefined (reading 'amount') at chargeCard (src/payments/charge.ts:88:13)" names changed file src/payments/charge.ts (+12 −3)`,
      "the sender says the deploy carried no migration, and no migration files changed",
    ]);
    expect(v.score).toBe(0.9);
  });

  it("Given a seen-before signature and a new one naming two changed files, When triaged, Then the new signature's file ranks first and scores higher", () => {
    const v = triageDeploy(deploy([changed("src/cart/total.ts"), changed("src/payments/charge.ts")]), [
      signature(["at total (/app/src/cart/total.ts:3:1)"], true),
      signature(["at chargeCard (/app/src/payments/charge.ts:88:13)"], false),
    ]);
    expect(v.suspects.map((s) => s.path)).toEqual(["src/payments/charge.ts", "src/cart/total.ts"]);
    expect(v.score).toBe(0.95);
  });
});

describe("weaker and absent links", () => {
  it("Given a function from a hunk header named in an error, When triaged, Then confidence is medium and an incident opens", () => {
    const hunk = "@@ -80,6 +80,7 @@ export async function chargeCard(order) {\n   const amount = order.amount;\n+  const currency = order.currency;\n   return gateway.charge(amount);";
    const v = triageDeploy(deploy([changed("src/payments/charge.ts", 1, 0, [hunk])]), [signature(["TypeError: currency is undefined in chargeCard for order 7"], true)]);
    expect(v.confidence).toBe("medium");
    expect(v.score).toBe(0.6);
    expect(v.causalLink).toBe(true);
    expect(v.suspects[0]?.reasons).toEqual(['error "TypeError: currency is undefined in chargeCard for order 7" names chargeCard, which the change to src/payments/charge.ts touches']);
    expect(v.suspects[0]?.hunks).toEqual([hunk]);
    expect(opensIncident(v)).toBe(true);
  });

  it("Given a runtime change and errors that name none of its files, When triaged, Then confidence is low (timing alone) and no incident opens", () => {
    const v = triageDeploy(deploy([changed("src/payments/charge.ts"), changed("src/cart/total.ts")]), [UNRELATED]);
    expect(v.isRuntimeChange).toBe(true);
    expect(v.causalLink).toBe(false);
    expect(v.confidence).toBe("low");
    expect(v.score).toBe(0.3);
    expect(v.evidence[1]).toBe("src/payments/charge.ts, src/cart/total.ts changed but no error names a changed file or a function the change touches: the link is timing alone");
    expect(opensIncident(v)).toBe(false);
  });

  it("Given generic src/index.ts changed and errors saying 'index' or naming another index.js, When triaged, Then the generic name links nothing", () => {
    const v = triageDeploy(deploy([changed("src/index.ts")]), [
      signature(["RangeError: index out of range"]),
      signature(["at main (/app/dist/index.js:4:5)"]),
      signature(["at handler (/app/other/index.ts:9:1)"]),
    ]);
    expect(v.confidence).toBe("low");
    expect(v.suspects).toEqual([]);
  });

  it("Given a changed file and an error naming a file of the same name in another directory or in node_modules, When triaged, Then it is not linked", () => {
    const v = triageDeploy(deploy([changed("src/payments/charge.ts")]), [
      signature(["at bill (/app/src/billing/charge.ts:3:1)"]),
      signature(["at x (/app/node_modules/stripe/src/payments/charge.js:1:1)"]),
    ]);
    expect(v.confidence).toBe("low");
    expect(v.suspects).toEqual([]);
  });

  it("Given a distinctive file stem as a word of the error, When triaged, Then confidence is medium", () => {
    const v = triageDeploy(deploy([changed("services/ledger/reconcile.go")]), [signature(["reconcile: mismatch between ledger and bank for batch 42"], true)]);
    expect(v.confidence).toBe("medium");
    expect(v.suspects[0]?.reasons).toEqual(['error "reconcile: mismatch between ledger and bank for batch 42" mentions "reconcile", the name of changed file services/ledger/reconcile.go']);
  });

  it("Given a Java file and an error naming only its package, When triaged, Then confidence is medium", () => {
    const v = triageDeploy(deploy([changed("src/main/java/com/shop/payments/RefundService.java")]), [signature(["ERROR com.shop.payments.Gateway - upstream 503"], true)]);
    expect(v.confidence).toBe("medium");
    expect(v.suspects[0]?.reasons[0]).toContain("names package com.shop.payments of changed file src/main/java/com/shop/payments/RefundService.java");
  });

  it("Given no errors at all and a runtime change, When triaged, Then confidence is low and the evidence says no signatures were given", () => {
    const v = triageDeploy(deploy([changed("src/a.ts")]), []);
    expect(v.confidence).toBe("low");
    expect(v.evidence[1]).toBe("src/a.ts changed but no error signatures were given to link: the link is timing alone");
  });

  it("Given a deploy with no changed files (a marker seen on the cluster), When triaged, Then it is a runtime change at low confidence and no incident opens", () => {
    const v = triageDeploy(deploy([]), [signature(["at chargeCard (src/payments/charge.ts:88:13)"])]);
    expect(v.isRuntimeChange).toBe(true);
    expect(v.causalLink).toBe(false);
    expect(v.confidence).toBe("low");
    expect(v.files).toEqual([]);
    expect(v.evidence[0]).toContain("no changed files were sent, so nothing links the errors to the change");
    expect(opensIncident(v)).toBe(false);
  });
});

describe("rollback safety", () => {
  it("Given a deploy the sender says carried a migration, When triaged, Then migration is set and rollback is not safe", () => {
    const v = triageDeploy(deploy([changed("src/a.ts")], true), [UNRELATED]);
    expect(v.migration).toBe(true);
    expect(v.rollbackSafe).toBe(false);
    expect(v.evidence).toContain("the sender says the deploy carried a migration: rolling back the code does not roll back the schema");
  });

  it("Given a Rails migration file db/migrate/20261130_add_currency.rb and an error quoting its column, When triaged, Then it is a migration linked with medium confidence", () => {
    const hunk = "@@ -0,0 +1,5 @@\n+class AddCurrency < ActiveRecord::Migration[7.1]\n+  def change\n+    add_column :orders, :currency, :string\n+  end\n+end";
    const v = triageDeploy(deploy([changed("db/migrate/20261130_add_currency.rb", 5, 0, [hunk])]), [signature(['PG::UndefinedColumn: ERROR:  column "currency" of relation "orders" does not exist'])]);
    expect(v.files[0]?.kind).toBe("migration");
    expect(v.migration).toBe(true);
    expect(v.isRuntimeChange).toBe(true);
    expect(v.rollbackSafe).toBe(false);
    expect(v.confidence).toBe("medium");
    expect(v.evidence).toContain("migration file db/migrate/20261130_add_currency.rb changed: rolling back the code does not roll back the schema");
  });

  it("Given a changed api/payments.proto, When triaged, Then it is a contract change, a runtime change, and rollback is not safe", () => {
    const v = triageDeploy(deploy([changed("api/payments.proto")], false), [UNRELATED]);
    expect(v.contractChange).toBe(true);
    expect(v.migration).toBe(false);
    expect(v.isRuntimeChange).toBe(true);
    expect(v.rollbackSafe).toBe(false);
    expect(v.evidence).toContain("contract file api/payments.proto changed: clients built against the new contract may break on rollback");
  });

  it("Given a code-only deploy whose sender did not say about migrations, When triaged, Then rollback is safe and the evidence says the sender did not say", () => {
    const v = triageDeploy(deploy([changed("src/a.ts")]), [UNRELATED]);
    expect(v.migration).toBe(false);
    expect(v.rollbackSafe).toBe(true);
    expect(v.evidence).toContain("the sender did not say whether the deploy carried a migration, and no migration files changed");
  });
});

describe("untrusted and large error text", () => {
  it("Given a long multi-line exemplar naming the file deep inside, When triaged, Then the quote is one line of at most 160 characters around the match", () => {
    const long = `${"Error: checkout failed\n".repeat(20)}    at chargeCard (/usr/src/app/src/payments/charge.ts:88:13)\n${"    at next (/usr/src/app/node_modules/express/lib/router/index.js:1:1)\n".repeat(10)}`;
    const v = triageDeploy(deploy([changed("src/payments/charge.ts")]), [signature([long])]);
    const reason = v.suspects[0]?.reasons[0] ?? "";
    const quoted = /"(.*)" names/.exec(reason)?.[1] ?? "";
    expect(quoted.startsWith("…")).toBe(true);
    expect(quoted.endsWith("…")).toBe(true);
    expect(quoted.length).toBeLessThanOrEqual(162);
    expect(quoted).toContain("charge.ts:88:13");
    expect(quoted).not.toContain("\n");
  });

  it("Given an exemplar that names the file only after its first 4,000 characters, When triaged, Then the name is not read", () => {
    const v = triageDeploy(deploy([changed("src/payments/charge.ts")]), [signature([`${"x".repeat(4000)} at chargeCard (src/payments/charge.ts:88:13)`])]);
    expect(v.confidence).toBe("low");
  });

  it("Given adversarial exemplars built to make regexes backtrack, When triaged against many files, Then it finishes quickly", () => {
    const nasty = ["a".repeat(50_000), `${"a.".repeat(3000)}!`, `${".-".repeat(3000)}x`, `/${"a/".repeat(3000)}`, `${"\"'".repeat(3000)}`, `x${" ".repeat(5000)}y`];
    const files = Array.from({ length: 2000 }, (_, i) => changed(`src/module${i}/file${i}.ts`));
    const started = performance.now();
    const v = triageDeploy(
      deploy(files),
      nasty.map((n) => signature([n])),
    );
    expect(v.confidence).toBe("low");
    expect(performance.now() - started).toBeLessThan(3000);
  });

  it("Given more than five hunks on a suspect, When triaged, Then at most five are returned, the hunk touching the named function first", () => {
    const filler = (i: number): string => `@@ -${i * 10},1 +${i * 10},2 @@ function helper${i}() {\n+  step${i}();`;
    const hot = "@@ -500,1 +500,2 @@ export function settleInvoice(invoice) {\n+  invoice.paid = true;";
    const hunks = [0, 1, 2, 3, 4, 5].map(filler).concat(hot);
    const v = triageDeploy(deploy([changed("src/billing/ledger.ts", 7, 0, hunks)]), [signature(["Error: settleInvoice failed: invoice locked"])]);
    expect(v.suspects[0]?.hunks).toHaveLength(5);
    expect(v.suspects[0]?.hunks[0]).toBe(hot);
  });

  it("Given the same deploy and errors twice, When triaged, Then the verdicts are identical", () => {
    const input = deploy([changed("src/payments/charge.ts"), changed("docs/a.md")]);
    const errors = [signature(["at chargeCard (src/payments/charge.ts:88:13)"]), UNRELATED];
    expect(triageDeploy(input, errors)).toEqual(triageDeploy(input, errors));
  });
});

describe("opening an incident", () => {
  it("Given verdicts of each confidence, When asked whether to open an incident, Then only a causal link at medium or high does", () => {
    const base = triageDeploy(deploy([changed("src/a.ts")]), []);
    const with_ = (causalLink: boolean, confidence: TriageVerdict["confidence"]): TriageVerdict => ({ ...base, causalLink, confidence });
    expect([with_(true, "high"), with_(true, "medium"), with_(false, "low"), with_(false, "none"), with_(false, "high")].map(opensIncident)).toEqual([true, true, false, false, false]);
  });
});
