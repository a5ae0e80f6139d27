import { parse } from "yaml";
import { defineAgent } from "../tasks/define_agent.ts";
import { CI_SCHEMAS } from "./kit/ci_config.ts";
import type { Finding, GeneratedFile, ScanResult } from "../tasks/repo_facts.ts";
import { secretOn } from "./kit/secret_patterns.ts";
import { type JobVerification, proposedCiFiles, type VerifiedCi } from "./kit/ci_verifier.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";
import type { TestRun } from "./kit/run_tests.ts";
import { noTestWhy } from "./kit/test_count.ts";

export interface Review {
  verdict: "approve" | "block";
  problems: string[];
  notes: string[];
  checked: number;
}

/** Reviews the generated patch against the findings: valid YAML, no secrets, no clobbering. */
export function review(
  scan: ScanResult,
  findings: Finding[],
  files: GeneratedFile[],
  verification?: JobVerification[],
  tests?: TestRun[],
): Review {
  const problems: string[] = [];
  const notes: string[] = [];
  // The project's own tests (`--run-tests`): a failure is the run's, whatever its files.
  for (const t of tests ?? []) {
    if (t.inPlaceOf) {
      notes.push(
        `\`${t.inPlaceOf.command}\` (${t.project}) could not run here (${t.inPlaceOf.why}): ` +
          `its tests ran under this machine's \`${t.command}\` instead, without what it installs`,
      );
    }
    const counted = t.tests
      ? ` (${t.tests.runner}: ${t.tests.failed} of ${t.tests.ran} failed)`
      : "";
    if (t.verdict === "failed") {
      problems.push(
        `the tests of ${t.project} failed: \`${t.command}\` ` +
          (t.timedOut ? "ran past its time limit" : `exit ${t.code}${counted}`),
      );
    } else if (t.verdict === "ran no test") {
      notes.push(`\`${t.command}\` (${t.project}) ran no test: ${noTestWhy(t.tests)}`);
    } else if (t.verdict === "could not run here") {
      notes.push(`\`${t.command}\` (${t.project}) could not run here: ${t.why}`);
    }
  }
  // A proposal whose jobs failed here is not verified: it is blocked, with the failing step.
  for (const job of verification ?? []) {
    for (const r of job.repairs ?? []) {
      notes.push(
        `CI job ${job.job} was repaired after its ${r.step} step failed: ${r.problem}; ${r.change}`,
      );
    }
    const failed = job.steps.find((s) => s.outcome === "failed");
    if (failed) {
      problems.push(
        `CI job ${job.job} failed here at "${failed.command}" (${failed.why}): not verified`,
      );
    } else if (job.verdict === "unverified") {
      const why = job.steps.find((s) => s.outcome === "not run")?.why;
      notes.push(`CI job ${job.job} could not be verified here: ${why}`);
    } else if (job.verdict === "ran no test") {
      const why = job.steps.find((s) => s.outcome === "ran no test")?.why ?? "it has no test step";
      notes.push(`CI job ${job.job} ran no test here (${why}): not verified`);
    }
  }
  for (const f of files) {
    if (f.mode === "create" && scan.files.some((e) => e.path === f.path)) {
      problems.push(`${f.path}: would overwrite an existing file`);
    }
    if (/\.ya?ml$/.test(f.path)) {
      try {
        const doc = parse(f.content);
        const schema = CI_SCHEMAS[f.path];
        const checked = schema?.safeParse(doc);
        if (checked && !checked.success) {
          problems.push(`${f.path}: ${checked.error.issues.map((i) => i.message).join("; ")}`);
        }
      } catch (err) {
        problems.push(`${f.path}: not valid YAML: ${(err as Error).message}`);
      }
    }
    const lines = f.content.split("\n");
    const names = new Set(lines.map((l, i) => secretOn(l, lines[i + 1])?.name).filter(Boolean));
    for (const name of names) problems.push(`${f.path}: contains what looks like a ${name}`);
  }
  const secrets = findings.filter((f) => f.rule === "secret");
  if (secrets.length > 0) {
    notes.push(
      `${secrets.length} committed secret(s) must be removed and rotated by a person before this patch is published`,
    );
  }
  return { verdict: problems.length ? "block" : "approve", problems, notes, checked: files.length };
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  // Reviews what the steps it depends on generated: CI, docs, the coder's change.
  review: (_inputs, deps) =>
    review(
      deps.scan as ScanResult,
      deps.assess as Finding[],
      [
        ...proposedCiFiles(
          deps.generate_ci as GeneratedFile[] | undefined,
          deps.verify_ci as VerifiedCi | undefined,
        ),
        ...((deps.write_docs as GeneratedFile[] | undefined) ?? []),
        ...((deps.code as { files: GeneratedFile[] } | undefined)?.files ?? []),
        ...((deps.write_tests as { files: GeneratedFile[] } | undefined)?.files ?? []),
      ],
      (deps.verify_ci as VerifiedCi | undefined)?.jobs,
      deps.test as TestRun[] | undefined,
    ),
});
