import { createTwoFilesPatch } from "diff";
import { checkDiagrams, type DiagramCheck, diagramLine, mermaidBlocks } from "./diagram_check.ts";
import { type PlannedTask, taskGraph } from "./run_diagram.ts";
import type { Regressions } from "./test_history.ts";
import { dirname, join } from "node:path";
import type { RepairStep } from "../tasks/repo_facts.ts";
import type {
  Detection,
  Finding,
  GeneratedFile,
  ScanResult,
  SkippedProject,
} from "../tasks/repo_facts.ts";
import type { Review } from "../agents/reviewer.ts";
import { generatedFiles, proposedFiles } from "./run_files.ts";
import type { RunOutcome } from "./orchestrator.ts";
import type { CodeChange } from "../agents/coder.ts";
import type { WrittenTests } from "../agents/kit/test_writer.ts";
import type { JobVerification, VerifiedCi } from "../agents/kit/ci_verifier.ts";
import type { TestRun } from "../agents/kit/run_tests.ts";
import type { ApiDoc } from "../agents/kit/api_docs.ts";
import type { DeployOutcome } from "../deploy/deployment.ts";
import { apiDocLines, skippedLines, testLines } from "./report_lines.ts";

/** Who planned a run. */
export type PlannedBy = {
  source: "offline" | "model";
  model?: string;
  /** Why the model's plan was not used. */
  fallback?: string;
  /** Why only local providers were asked (privacy by policy), when so. */
  localOnly?: string;
};

/** What a run found and made, as `report.json` holds it. */
export interface RunReport {
  runId: string;
  goal: string;
  repo: string;
  files: number;
  projects: Detection["projects"];
  /** The branches the generated CI runs on, and how they were found. */
  branches?: Detection["branches"];
  existingCi: string[];
  findings: Finding[];
  plan: RepairStep[];
  generated: { path: string; mode: string; reason: string }[];
  review?: Review;
  /** The project's own tests (`--run-tests`), each with its verdict and what its runner said. */
  tests?: TestRun[];
  /** The coder's change, when a model wrote one: attempts, the model, its files and its tests. */
  /** `steps`: model turns of its tool-calling session (absent in older reports). */
  code?: { attempts: number; steps?: number; model: string; files: string[]; tests: TestRun[] };
  /** Who planned the run (offline or a model), why a model's plan fell back, privacy. */
  plannedBy?: PlannedBy;
  /** Where the approved repository was deployed (`--deploy ENV`), when it went live. */
  deployed?: DeployOutcome;
  /** Each project's API documentation tool, as it ran here (`--api-docs`). */
  apiDocs?: ApiDoc[];
  /** The proposed CI jobs run here (`--verify-ci`). */
  ciVerification?: JobVerification[];
  /** Projects that get no CI job, and why. */
  skippedProjects?: SkippedProject[];
  /** What models cost the run, by model. */
  cost?: ModelSpend;
  /** The tests a model wrote and the deliberate breaks of the code they caught. */
  testsWritten?: { attempts: number; model: string; mutants: WrittenTests["mutants"] };
  dead: RunOutcome["dead"];
  skipped: RunOutcome["skipped"];
  /** What got worse in the tests since the repository's last run with tests. */
  regressions?: Regressions;
  /** The task graph as a Mermaid flowchart, each task with how it ended. */
  taskGraph?: string;
  /** The run's Mermaid diagrams (report and generated docs), parsed by Mermaid's own parser. */
  diagrams?: DiagramCheck;
}

/** Model calls, tokens and dollars, in all and by model. */
export interface ModelSpend {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  byModel: Record<
    string,
    { calls: number; inputTokens: number; outputTokens: number; costUsd: number }
  >;
  /** Models that answered with no known price: counted at $0. */
  unpriced?: string[];
}

export function buildReport(
  runId: string,
  goal: string,
  repo: string,
  outcome: RunOutcome,
  cost?: ModelSpend,
  plannedBy?: PlannedBy,
  tasks?: PlannedTask[],
  regressions?: Regressions,
): { report: RunReport; files: GeneratedFile[] } {
  const out = outcome.outputs;
  const scan = out.get("scan") as ScanResult | undefined;
  const detection = out.get("detect") as Detection | undefined;
  const code = out.get("code") as CodeChange | undefined;
  const verified = out.get("verify_ci") as VerifiedCi | undefined;
  const written = out.get("write_tests") as WrittenTests | undefined;
  const files = generatedFiles(out);
  return {
    files,
    report: {
      runId,
      goal,
      repo,
      files: scan?.files.length ?? 0,
      projects: detection?.projects ?? [],
      ...(detection?.branches ? { branches: detection.branches } : {}),
      existingCi: detection?.existingCi ?? [],
      findings: (out.get("assess") as Finding[] | undefined) ?? [],
      plan: (out.get("plan_repairs") as RepairStep[] | undefined) ?? [],
      generated: files.map((f) => ({ path: f.path, mode: f.mode, reason: f.reason })),
      review: out.get("review") as Review | undefined,
      tests: out.get("test") as TestRun[] | undefined,
      ...(code
        ? {
          code: {
            attempts: code.attempts,
            ...(code.steps ? { steps: code.steps } : {}),
            model: code.model,
            files: code.files.map((f) => f.path),
            tests: code.tests,
          },
        }
        : {}),
      ...(plannedBy ? { plannedBy } : {}),
      ...(cost ? { cost } : {}),
      ...(verified ? { ciVerification: verified.jobs } : {}),
      ...(out.has("api_docs") ? { apiDocs: out.get("api_docs") as ApiDoc[] } : {}),
      ...(out.has("deploy") ? { deployed: out.get("deploy") as DeployOutcome } : {}),
      ...(detection?.skipped?.length ? { skippedProjects: detection.skipped } : {}),
      ...(written
        ? {
          testsWritten: {
            attempts: written.attempts,
            model: written.model,
            mutants: written.mutants,
          },
        }
        : {}),
      dead: outcome.dead,
      skipped: outcome.skipped,
      ...(tasks?.length ? { taskGraph: taskGraph(tasks, outcome) } : {}),
      ...(regressions ? { regressions } : {}),
    },
  };
}

export function markdown(r: RunReport): string {
  const lines = [
    `# troupe run ${r.runId}`,
    "",
    `Goal: ${r.goal}  `,
    `Repository: ${r.repo} (${r.files} files)`,
    "",
    "## Projects",
    "",
    ...(r.projects.length
      ? r.projects.map((p) =>
        `- ${p.type} in \`${p.dir}\` (${p.manifest})${
          p.test
            ? `, tests: \`${p.test}\`${p.testFrom ? ` (from ${p.testFrom})` : ""}`
            : ", no test command"
        }${p.matrix ? `, a job for each of ${p.matrix.join(", ")}` : ""}${
          p.members?.length ? `, with ${p.members.length} workspace members` : ""
        }${p.runtimeVersion ? `, version ${p.runtimeVersion} (${p.runtimeVersionFrom})` : ""}${
          p.packageManager ? `, ${p.packageManager}` : ""
        }`
      )
      : ["- none detected"]),
    ...skippedLines(r.skippedProjects ?? []),
    `- existing CI: ${r.existingCi.length ? r.existingCi.join(", ") : "none"}`,
    ...(r.branches
      ? [`- CI runs on: ${r.branches.names.join(", ")} and pull requests (${r.branches.from})`]
      : []),
    "",
    "## Findings",
    "",
    "| severity | rule | where | what |",
    "| --- | --- | --- | --- |",
    ...r.findings.map((f) =>
      `| ${f.severity} | ${f.rule} | ${
        f.path ? `${f.path}${f.line ? `:${f.line}` : ""}` : ""
      } | ${f.message}${f.evidence ? ` (\`${f.evidence}\`)` : ""} |`
    ),
    "",
    "## Repair plan",
    "",
    ...r.plan.map((s) =>
      `- [${
        s.automated ? "generated" : "for a person"
      }] **${s.action}** (risk ${s.risk}; rollback: ${s.rollback})`
    ),
    "",
    "## Generated files",
    "",
    ...(r.generated.length
      ? r.generated.map((g) => `- \`${g.path}\` (${g.mode}): ${g.reason}`)
      : ["- none"]),
    "",
  ];
  if (r.tests) {
    lines.push("## Tests run here", "", ...testLines(r.tests), "");
    if (r.regressions) {
      const { since, found } = r.regressions;
      lines.push(`Since run ${since}: ${found.length ? "" : "no regression."}`, "");
      if (found.length) lines.push(...found.map((f) => `- regression: ${f}`), "");
    }
  }
  if (r.review) {
    lines.push("## Review", "", `Verdict: **${r.review.verdict}**`, "");
    lines.push(
      ...r.review.problems.map((p) => `- problem: ${p}`),
      ...r.review.notes.map((n) => `- note: ${n}`),
      "",
    );
  }
  if (r.ciVerification) {
    lines.push("## CI verified here", "");
    for (const job of r.ciVerification) {
      lines.push(`- **${job.job}**: ${job.verdict}`);
      for (const fix of job.repairs ?? []) {
        lines.push(`  - repaired after ${fix.step} failed: ${fix.problem}; ${fix.change}`);
      }
      for (const s of job.steps) {
        const c = s.tests;
        const figures = c && !s.why
          ? ` (${c.ran} run, ${c.passed} passed, ${c.failed} failed: ${c.runner})`
          : "";
        lines.push(
          `  - ${s.name} \`${s.command}\`: ${s.outcome}${s.why ? ` (${s.why})` : figures}`,
        );
      }
    }
    lines.push("");
  }
  if (r.deployed) {
    const d = r.deployed;
    lines.push("## Deployed", "", `Release ${d.releaseId} is live on ${d.env} at ${d.url}.`, "");
  }
  if (r.apiDocs) lines.push("## API documentation", "", ...apiDocLines(r.apiDocs), "");
  if (r.plannedBy) {
    const p = r.plannedBy;
    lines.push(
      "## Planning",
      "",
      p.source === "model"
        ? `Planned by ${p.model}.`
        : p.fallback
        ? `Planned offline: the model's plan was not used (${p.fallback}).`
        : "Planned offline.",
      ...(p.localOnly ? [`Only local providers were asked: ${p.localOnly}.`] : []),
      "",
    );
  }
  if (r.code) {
    lines.push(
      "## Code changed",
      "",
      `By ${r.code.model} in ${r.code.steps ?? "?"} model turn(s) and ${r.code.attempts} ` +
        "finished attempt(s), tested on a scratch copy (its tool calls: the ledger's " +
        "`tool_call` events):",
      "",
      ...r.code.files.map((f) => `- \`${f}\``),
      "",
      "The project's tests with the change:",
      "",
      ...testLines(r.code.tests),
      "",
    );
  }
  if (r.testsWritten) {
    lines.push(
      "## Tests written",
      "",
      `By ${r.testsWritten.model} in ${r.testsWritten.attempts} attempt(s); kept because they ` +
        "pass on the code and fail when it is broken:",
      "",
      ...r.testsWritten.mutants.map((m) =>
        `- ${m.file}: ${m.change}: ${m.caught ? "caught" : "not caught"}`
      ),
      "",
    );
  }
  if (r.cost) {
    const c = r.cost;
    lines.push(
      "## Cost",
      "",
      `${c.calls} model call(s), ${c.inputTokens} input and ${c.outputTokens} output tokens, ` +
        `$${c.costUsd.toFixed(4)}`,
      "",
      "| model | calls | input tokens | output tokens | USD |",
      "| --- | --- | --- | --- | --- |",
      ...Object.entries(c.byModel).map(([m, s]) =>
        `| ${m} | ${s.calls} | ${s.inputTokens} | ${s.outputTokens} | ${s.costUsd.toFixed(4)} |`
      ),
      "",
      ...(c.unpriced?.length
        ? [
          `No price is known for ${c.unpriced.join(", ")}: counted at $0 (give one in prices).`,
          "",
        ]
        : []),
    );
  }
  if (r.dead.length || r.skipped.length) {
    lines.push("## Tasks that did not complete", "");
    lines.push(
      ...r.dead.map((d) => `- ${d.taskId}: failed after ${d.attempts} attempt(s): ${d.cause}`),
    );
    lines.push(...r.skipped.map((s) => `- ${s.taskId}: skipped: ${s.reason}`), "");
  }
  if (r.taskGraph) lines.push("## Task graph", "", "```mermaid", r.taskGraph, "```", "");
  if (r.diagrams) lines.push(diagramLine(r.diagrams), "");
  return lines.join("\n");
}

/** Writes report.md, report.json, the generated files and a patch to `out`; safe to repeat. */
export async function writeOutputs(
  out: string,
  repo: string,
  report: RunReport,
  files: GeneratedFile[],
): Promise<void> {
  await Deno.mkdir(join(out, "files"), { recursive: true });
  // Proposed docs with diagrams (a repository's own data drawn) are parsed before they are
  // written, with the report's; loading Mermaid takes a second or two, so only then. The task
  // graph alone is drawn from task ids and kinds troupe checks (see the tests).
  const docs = files.filter((f) =>
    /\.md$/i.test(f.path) && f.mode !== "delete" && mermaidBlocks(f.content).length > 0
  ).map((f) => ({ path: f.path, text: f.content }));
  if (docs.length > 0) {
    report.diagrams = await checkDiagrams([{ path: "report.md", text: markdown(report) }, ...docs]);
  }
  await Deno.writeTextFile(join(out, "report.md"), markdown(report));
  await Deno.writeTextFile(join(out, "report.json"), JSON.stringify(report, null, 2) + "\n");
  const patches: string[] = [];
  for (const { file: f, before, after } of await proposedFiles(repo, files)) {
    if (f.mode !== "delete") {
      await Deno.mkdir(dirname(join(out, "files", f.path)), { recursive: true });
      await Deno.writeTextFile(join(out, "files", f.path), after);
    }
    patches.push(
      createTwoFilesPatch(
        f.mode !== "create" ? `a/${f.path}` : "/dev/null",
        f.mode !== "delete" ? `b/${f.path}` : "/dev/null",
        before,
        after,
      ),
    );
  }
  await Deno.writeTextFile(join(out, "changes.patch"), patches.join(""));
}

/** The project's own tests failed, as `--run-tests` ran them. */
export function testsFailed(r: RunReport): boolean {
  return (r.tests ?? []).some((t) => t.verdict === "failed");
}
