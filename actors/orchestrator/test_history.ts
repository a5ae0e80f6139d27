import { z } from "zod";
import { eventType, type Ledger } from "../../ledger/mod.ts";
import type { TestRun } from "../agents/kit/run_tests.ts";
import { RunStarted } from "./run_events.ts";

/**
 * Each project's tests as a run ran them, one event each, flat for SQL (the `coverage` view): the
 * verdict, how long they took and the lines they ran where the ecosystem's tool measured them.
 */
export const TestResult = eventType(
  "test_result",
  z.object({
    project: z.string(),
    command: z.string(),
    verdict: z.string(),
    durationMs: z.number(),
    coveragePct: z.number().optional(),
    linesCovered: z.number().int().optional(),
    linesTotal: z.number().int().optional(),
    coverageTool: z.string().optional(),
    /** Absent: lines. */
    coverageUnit: z.enum(["lines", "statements"]).optional(),
  }),
);
type Result = z.infer<typeof TestResult.payload>;

/** What changed for the worse since the repository's last run with tests. */
export interface Regressions {
  /** The run compared with. */
  since: string;
  found: string[];
}

/** Records each project's test run (once a run: a resumed run's are kept as they were). */
export async function recordTestResults(
  ledger: Ledger,
  runId: string,
  tests: TestRun[],
): Promise<void> {
  for await (const _ of ledger.events([TestResult], { runId })) return;
  for (const t of tests) {
    await ledger.record(TestResult, {
      runId,
      actor: "orchestrator",
      payload: {
        project: t.project,
        command: t.command,
        verdict: t.verdict,
        durationMs: Math.round(t.durationMs),
        ...(t.coverage
          ? {
            coveragePct: t.coverage.pct,
            linesCovered: t.coverage.linesCovered,
            linesTotal: t.coverage.linesTotal,
            coverageTool: t.coverage.tool,
            ...(t.coverage.unit ? { coverageUnit: t.coverage.unit } : {}),
          }
          : {}),
      },
    });
  }
}

/**
 * Compares a run's tests with the last earlier run of the same repository that ran tests, by
 * project: tests that passed there and do not now, coverage that fell (by half a point or more),
 * tests that took half again as long (and a second more). Undefined when there is no such run.
 */
export async function regressionsSince(
  ledger: Ledger,
  run: { runId: string; repo: string },
  tests: TestRun[],
): Promise<Regressions | undefined> {
  // Runs of the same repository started before this one (its first start: a resume starts again).
  const earlier: string[] = [];
  for await (const e of ledger.events([RunStarted])) {
    if (e.runId === run.runId) break;
    if (e.runId && e.payload.repo === run.repo && !earlier.includes(e.runId)) earlier.push(e.runId);
  }
  for (const since of earlier.reverse()) {
    const before = new Map<string, Result>();
    for await (const e of ledger.events([TestResult], { runId: since })) {
      before.set(e.payload.project, e.payload);
    }
    if (before.size === 0) continue;
    const found: string[] = [];
    for (const now of tests) {
      const was = before.get(now.project);
      if (!was) continue;
      // Not run here is not worse code: nothing was tested.
      if (was.verdict === "passed" && (now.verdict === "failed" || now.verdict === "ran no test")) {
        found.push(`${now.project}: its tests passed in ${since} and now: ${now.verdict}`);
      }
      if (
        was.coveragePct !== undefined && now.coverage && was.coveragePct - now.coverage.pct >= 0.5
      ) {
        found.push(
          `${now.project}: ${
            now.coverage.unit === "statements" ? "statement" : "line"
          } coverage fell from ${was.coveragePct}% to ${now.coverage.pct}%`,
        );
      }
      if (now.durationMs >= 1.5 * was.durationMs && now.durationMs - was.durationMs >= 1000) {
        found.push(
          `${now.project}: its tests took ${(now.durationMs / 1000).toFixed(1)} s, ` +
            `${(was.durationMs / 1000).toFixed(1)} s in ${since}`,
        );
      }
    }
    return { since, found };
  }
  return undefined;
}
