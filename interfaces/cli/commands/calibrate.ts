import { fitSettings, proposalYaml, readEvaluationResults, type DecisionSettings, type SettingsScore } from "../../../app/calibrate.js";
import { InvalidInputError } from "../../../domain/errors.js";
import type { CommandArgs } from "../args.js";
import { writeNewFile } from "../new-file.js";

const USAGE = "usage: suture calibrate <fit results.json> <report results.json> [--out <proposal.yaml>]   (files from `suture eval … --json <file>`)";

function settingsText(s: DecisionSettings): string {
  return `escalateBelow ${s.escalateBelow.toFixed(2)}, weights ${Object.entries(s.weights)
    .map(([r, w]) => `${r} ${w}`)
    .join(", ")}`;
}

function scoreText(s: SettingsScore): string {
  return `decisions right ${s.correctDecisions}/${s.scenarios}, unsafe ${s.unsafe}, remediation right ${s.correctRemediations}/${s.expectingRemediation}, changed ${s.changed}`;
}

/**
 * `suture calibrate <fit.json> <report.json> [--out f]`: fits `escalateBelow` and the pooling
 * weights on one evaluation's results and reports the effect on another's. Prints the proposal
 * (or writes it to a new file) for a human to review; it never changes the policy.
 */
export async function calibrateCommand(args: CommandArgs): Promise<number> {
  const [fitFile, reportFile, ...extra] = args.positionals;
  if (fitFile === undefined || reportFile === undefined || extra.length > 0) throw new InvalidInputError(`expected two evaluation results: one to fit on, one to report on\n${USAGE}`);
  const fit = fitSettings(await readEvaluationResults(fitFile), await readEvaluationResults(reportFile));
  console.log(`recorded settings: ${settingsText(fit.current)}`);
  console.log(`fitted on ${fitFile} (${fit.candidatesTried} settings tried; the most right decisions with no more unsafe runs, then right remediations, then the least change):`);
  console.log(`  ${settingsText(fit.fitted)}`);
  console.log("");
  console.log(`${"set".padEnd(8)} ${"settings".padEnd(9)} result`);
  console.log(`${"fit".padEnd(8)} ${"recorded".padEnd(9)} ${scoreText(fit.fit.before)}`);
  console.log(`${"".padEnd(8)} ${"fitted".padEnd(9)} ${scoreText(fit.fit.after)}`);
  console.log(`${"report".padEnd(8)} ${"recorded".padEnd(9)} ${scoreText(fit.report.before)}`);
  console.log(`${"".padEnd(8)} ${"fitted".padEnd(9)} ${scoreText(fit.report.after)}`);
  console.log("");
  console.log(
    `decided again offline from each run's first diagnosis: ${fit.fit.before.reproduced}/${fit.fit.before.scenarios} (fit) and ${fit.report.before.reproduced}/${fit.report.before.scenarios} (report) reproduce their recorded decision; ` +
      "the others keep it. A newly acting run counts as its expected remediation when the action class matches; whether it would have verified is not known until the sets are evaluated with the proposal. " +
      "The per-risk thresholds (policy.thresholds: approval versus acting alone) are not fitted.",
  );
  const yaml = proposalYaml(fit, { fitOn: fitFile, reportOn: reportFile });
  const out = args.values["out"];
  if (typeof out === "string") {
    await writeNewFile(out, yaml);
    console.log(`wrote the proposal to ${out} (review it; nothing reads it until you copy it into the policy file)`);
  } else {
    console.log("");
    process.stdout.write(yaml);
  }
  return 0;
}
