import { z } from "zod";
import { identifier } from "./alerts/bounds.js";
import { InvalidInputError } from "./errors.js";
import { storableInstant, storableText } from "./input.js";
import { formatZodError } from "./problems.js";
import { redactSecrets, redactValue, secretKinds } from "./secrets.js";

/**
 * Deploy markers and failed builds, as the deploy webhook (`POST /v1/deploys`) and CI
 * (`POST /v1/builds`) send them: what changed, where and when, for the regression watch to judge
 * (docs/regression-watch.md, "Deploy markers"). Bounded like the alert intake: a request over a
 * bound is refused with the field named, nothing is truncated.
 */
export const DEPLOY_BOUNDS = {
  /** Version and author: a tag, an image digest or a person's name. */
  label: 256,
  /** A changed file's path (PATH_MAX on Linux). */
  path: 4096,
  /** Changed files in one deploy or build; a bigger change is summarized by its sender. */
  changedFiles: 5000,
  /** Lines added or removed in one file: what a PostgreSQL integer holds. */
  lines: 2_147_483_647,
  /** A failed build's log tail, in UTF-8 bytes. */
  logTailBytes: 64 * 1024,
  /** Diff hunks sent for one changed file. */
  hunks: 200,
  /** One diff hunk, in characters. */
  hunkChars: 16 * 1024,
} as const;

/** Required text: `expected` is the message when it is absent, empty or not a string. */
function requiredText(max: number, what: string, expected: string): z.ZodType<string> {
  return z.string(expected).min(1, expected).pipe(storableText(max, what));
}

/** The message for a value that is not an object (other issues of the object, such as unknown keys, keep zod's). */
function objectExpected(message: string): { error: (issue: { code: string }) => string | undefined } {
  return { error: (issue) => (issue.code === "invalid_type" ? message : undefined) };
}

/** An abbreviated or full git commit id. */
const COMMIT = /^[0-9a-f]{7,40}$/i;

/** A git commit: 7 to 40 hexadecimal digits (stored in lower case). */
function commitId(): z.ZodType<string> {
  return z
    .string("expected a git commit id")
    .regex(COMMIT, "expected a git commit id of 7 to 40 hexadecimal digits")
    .transform((c) => c.toLowerCase());
}

/** One workload name part (namespace or name): bounded, storable, no `/`. */
function workloadPart(what: string): z.ZodString {
  return identifier(what).regex(/^[^/]+$/, `expected ${what} without "/"`);
}

/** Lines added or removed in one file. */
function lineCount(what: string): z.ZodNumber {
  return z
    .number(`expected the number of lines ${what}`)
    .int(`expected a whole number of lines ${what}`)
    .min(0, `expected the number of lines ${what}, at least 0`)
    .max(DEPLOY_BOUNDS.lines, `expected at most ${DEPLOY_BOUNDS.lines} lines ${what}`);
}

/** One changed file with its added and removed line counts. */
export const ChangedFileSchema = z
  .object(
    {
      path: requiredText(DEPLOY_BOUNDS.path, "a file path", "expected the file's path"),
      added: lineCount("added"),
      removed: lineCount("removed"),
      /**
       * The file's unified-diff hunks (each from its `@@ -a,b +c,d @@ context` header on), when the
       * sender has them: triage reads the functions they touch and whether only comments changed.
       */
      hunks: z
        .array(
          z.string("expected a unified-diff hunk starting with @@").regex(/^@@ /, "expected a unified-diff hunk starting with @@").pipe(storableText(DEPLOY_BOUNDS.hunkChars, "a diff hunk")),
          "expected a list of diff hunks",
        )
        .max(DEPLOY_BOUNDS.hunks, `expected at most ${DEPLOY_BOUNDS.hunks} hunks`)
        .optional(),
    },
    objectExpected("expected a changed file as {path, added, removed, hunks?}"),
  )
  .strict();

/** A changed file of a deploy or build. */
export type ChangedFile = z.output<typeof ChangedFileSchema>;

const ChangedFilesSchema = z.array(ChangedFileSchema, "expected a list of changed files").max(DEPLOY_BOUNDS.changedFiles, `expected at most ${DEPLOY_BOUNDS.changedFiles} changed files`);

/** The workload fields both bodies share: `workload` as `namespace/name`, or a name with `namespace`. */
const WorkloadFields = {
  workload: requiredText(2 * 253 + 1, "a workload as namespace/name", "expected the workload, as namespace/name or a name with `namespace`"),
  namespace: workloadPart("a namespace").optional(),
};

/** A workload a deploy or build is about. */
export interface WorkloadRef {
  namespace: string;
  name: string;
}

/**
 * Splits `workload` (and `namespace`) into a namespace and a name, adding an issue on the field
 * at fault when they are missing, malformed or disagree.
 */
function splitWorkload(value: { workload: string; namespace?: string | undefined }, ctx: z.RefinementCtx): WorkloadRef | undefined {
  const slash = value.workload.indexOf("/");
  const fail = (path: string, message: string): undefined => {
    ctx.addIssue({ code: "custom", path: [path], message });
    return undefined;
  };
  if (slash < 0) {
    if (value.namespace === undefined) return fail("namespace", "expected the workload's namespace (or `workload` as namespace/name)");
    const name = workloadPart("a workload name").safeParse(value.workload);
    return name.success ? { namespace: value.namespace, name: value.workload } : fail("workload", name.error.issues[0]?.message ?? "expected a workload name");
  }
  const namespace = value.workload.slice(0, slash);
  const name = value.workload.slice(slash + 1);
  const ns = workloadPart("a namespace before the /").safeParse(namespace);
  if (!ns.success) return fail("workload", `${ns.error.issues[0]?.message ?? "expected a namespace"} (as namespace/name)`);
  const nm = workloadPart("a workload name after the /").safeParse(name);
  if (!nm.success) return fail("workload", `${nm.error.issues[0]?.message ?? "expected a workload name"} (as namespace/name)`);
  if (value.namespace !== undefined && value.namespace !== namespace) return fail("namespace", `expected "${namespace}" as in workload, or no namespace`);
  return { namespace, name };
}

/** A deploy webhook body (`POST /v1/deploys`), before the workload is split and secrets redacted. */
export const DeployBodySchema = z
  .object(
    {
      ...WorkloadFields,
      version: requiredText(DEPLOY_BOUNDS.label, "a version", "expected the version deployed"),
      commit: commitId().optional(),
      changedFiles: ChangedFilesSchema.default([]),
      author: requiredText(DEPLOY_BOUNDS.label, "an author", "expected who deployed"),
      at: storableInstant().optional(),
      /** Whether the deploy carried a schema migration (rollback is then unsafe); absent when the sender does not know. */
      migration: z.boolean("expected true or false").optional(),
      source: z.enum(["webhook", "cluster"], "expected webhook or cluster").default("webhook"),
    },
    objectExpected("expected a deploy as a JSON object"),
  )
  .strict();

/** A failed build from CI (`POST /v1/builds`), before the workload is split and secrets redacted. */
export const BuildBodySchema = z
  .object(
    {
      ...WorkloadFields,
      commit: commitId(),
      status: z.literal("failed", 'expected "failed" (only failed builds are reported)'),
      logTail: z
        .string("expected the end of the build log")
        .refine((t) => Buffer.byteLength(t, "utf8") <= DEPLOY_BOUNDS.logTailBytes, `expected at most ${DEPLOY_BOUNDS.logTailBytes} bytes (64 KiB) of log; send its end`)
        .pipe(storableText(DEPLOY_BOUNDS.logTailBytes, "a log tail")),
      changedFiles: ChangedFilesSchema.default([]),
      at: storableInstant().optional(),
    },
    objectExpected("expected a failed build as a JSON object"),
  )
  .strict();

/** A validated deploy marker, secrets redacted: what the store keeps. */
export interface Deploy {
  workload: WorkloadRef;
  version: string;
  commit?: string;
  changedFiles: ChangedFile[];
  author: string;
  /** When it was deployed (ISO 8601; the time it was received when the sender gave none). */
  at: string;
  migration?: boolean;
  source: "webhook" | "cluster";
}

/** A validated failed build, secrets redacted: what the store keeps. */
export interface Build {
  workload: WorkloadRef;
  commit: string;
  status: "failed";
  /** The end of the build log with every detected secret replaced by `[REDACTED]`. */
  logTail: string;
  /** Kinds of secrets redacted from the log tail (empty when none), so a leak is still known as one. */
  redactedSecrets: string[];
  changedFiles: ChangedFile[];
  at: string;
}

/** A body schema whose `workload` (`name` or `namespace/name`, plus an optional `namespace`) becomes a {@link WorkloadRef}. */
function withWorkload<T extends { workload: string; namespace?: string | undefined }>(schema: z.ZodType<T>) {
  return schema.transform((body, ctx) => {
    const workload = splitWorkload(body, ctx);
    return workload === undefined ? z.NEVER : { ...body, workload };
  });
}

/** Parses with a schema, refusing a mismatch with every failing field named. */
function parseBody<T>(schema: z.ZodType<T>, body: unknown, prefix: string): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new InvalidInputError(formatZodError(parsed.error, prefix));
  return parsed.data;
}

/** Validates a deploy webhook body (fields named under `prefix`, e.g. `body.`), splitting the workload and redacting secrets. */
export function parseDeploy(body: unknown, receivedAt: Date = new Date(), prefix = ""): Deploy {
  const d = parseBody(withWorkload(DeployBodySchema), body, prefix);
  const deploy: Deploy = {
    workload: d.workload,
    version: d.version,
    ...(d.commit !== undefined ? { commit: d.commit } : {}),
    changedFiles: d.changedFiles,
    author: d.author,
    at: d.at ?? receivedAt.toISOString(),
    ...(d.migration !== undefined ? { migration: d.migration } : {}),
    source: d.source,
  };
  // A token pasted into a version or an author must not reach the database either.
  return redactValue(deploy);
}

/** Validates a failed-build body (fields named under `prefix`), splitting the workload and redacting secrets from the log tail and every other text. */
export function parseBuild(body: unknown, receivedAt: Date = new Date(), prefix = ""): Build {
  const b = parseBody(withWorkload(BuildBodySchema), body, prefix);
  const build: Build = {
    workload: b.workload,
    commit: b.commit,
    status: b.status,
    logTail: redactSecrets(b.logTail),
    redactedSecrets: [...new Set(b.logTail.split("\n").flatMap(secretKinds))].sort(),
    changedFiles: b.changedFiles,
    at: b.at ?? receivedAt.toISOString(),
  };
  return redactValue(build);
}

/** A workload as operators write it: `namespace/name`. */
export function workloadKey(w: WorkloadRef): string {
  return `${w.namespace}/${w.name}`;
}

/** Whether an image reference runs a deployed version: it is the version, or is tagged or pinned with it. */
export function imageRunsVersion(image: string, version: string): boolean {
  return image === version || image.endsWith(`:${version}`) || image.endsWith(`@${version}`);
}
