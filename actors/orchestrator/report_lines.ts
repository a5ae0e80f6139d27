import type { ApiDoc } from "../agents/kit/api_docs.ts";
import type { TestRun } from "../agents/kit/run_tests.ts";
import { noTestWhy } from "../agents/kit/test_count.ts";
import type { SkippedProject } from "../tasks/repo_facts.ts";

/** Projects without a job, one line each; those in test data folders (often many) on one line. */
export function skippedLines(skipped: SkippedProject[]): string[] {
  const testData = skipped.filter((p) => p.why.startsWith("test data"));
  const dirs = testData.slice(0, 3).map((p) => `\`${p.dir}\``).join(", ");
  return [
    ...skipped.filter((p) => !testData.includes(p)).map((p) =>
      `- no CI job for ${p.type} in \`${p.dir}\`: ${p.why}`
    ),
    ...(testData.length
      ? [
        `- no CI job for ${testData.length} project(s) in test data folders: ${dirs}${
          testData.length > 3 ? ", …" : ""
        }`,
      ]
      : []),
  ];
}

/** Each test command with its verdict and the runner's own figures. */
export function testLines(tests: TestRun[]): string[] {
  if (tests.length === 0) return ["- no project has a test command"];
  return tests.map((t) => {
    const c = t.tests;
    const figures = c
      ? `: ${c.ran} run, ${c.passed} passed, ${c.failed} failed${
        c.skipped ? `, ${c.skipped} skipped` : ""
      } (${c.runner})`
      : "";
    const how = t.verdict === "failed" && !c?.failed
      ? t.timedOut ? " (past its time limit)" : ` (exit ${t.code})`
      : t.verdict === "could not run here"
      ? ` (${t.why})`
      : t.verdict === "ran no test"
      ? ` (${noTestWhy(c)})`
      : "";
    const coverage = t.coverage
      ? `; ${
        t.coverage.unit ?? "lines"
      } run ${t.coverage.pct}% (${t.coverage.linesCovered} of ${t.coverage.linesTotal}, ${t.coverage.tool})`
      : "";
    const inPlace = t.inPlaceOf
      ? ` in place of \`${t.inPlaceOf.command}\` (${t.inPlaceOf.why})`
      : "";
    return `- ${t.project} \`${t.command}\`${inPlace}: **${t.verdict}**${how}${figures}${coverage}`;
  });
}

/** Each project's API documentation tool: the page it made, the site it built, or why not. */
export function apiDocLines(docs: ApiDoc[]): string[] {
  if (docs.length === 0) return ["- no project"];
  return docs.map((d) =>
    d.outcome === "made"
      ? `- ${d.project}: made by ${d.tool} (\`${d.command}\`): ${
        d.page ? `\`${d.page.path}\`` : `builds into \`${d.site}\``
      }`
      : `- ${d.project}: ${d.outcome}${d.command ? ` \`${d.command}\`` : ""} (${d.why})`
  );
}
