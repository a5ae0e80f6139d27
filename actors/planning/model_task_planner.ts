import { z } from "zod";
import type { Detection, Finding, ScanResult } from "../tasks/repo_facts.ts";
import { PlanError } from "../tasks/plan_error.ts";
import { validatePlan } from "../tasks/task_graph.ts";
import type { TaskPacketInput } from "../tasks/task_packet.ts";
import type { GatewayReply } from "../llm/llm_gateway.ts";
import type { ChatMessage } from "../llm/model_call.ts";

/** What the team can do, told to the model: one line per task kind. */
const STEPS: Record<string, string> = {
  scan: "inventory of the repository's files (done already)",
  detect: "projects, toolchains, test commands and existing CI (done already)",
  assess: "findings: missing CI, tests, README, LICENSE, committed secrets, … (done already)",
  plan_repairs: "a repair plan from the findings, with risk and rollback per step",
  generate_ci: "CI files for the detected toolchains (GitHub Actions, GitLab CI, Azure Pipelines)",
  write_docs: "README set-up/test section and a CHANGELOG entry",
  review: "checks every generated file and the patch for secrets, and approves or blocks",
  test: "runs the project's own tests",
  code: "changes the code to reach the goal: a patch, tested on a scratch copy of the repository",
  write_tests:
    "writes tests for the goal, keeping only tests that pass and that fail when the code is broken",
};

/** What each step reads, so must depend on; the rest of its ordering is the model's choice. */
const NEEDS: Record<string, string[]> = {
  plan_repairs: ["assess"],
  generate_ci: ["detect", "plan_repairs"],
  write_docs: ["scan", "detect", "plan_repairs"],
  review: ["scan", "assess"],
  test: ["detect"],
  code: ["scan", "detect"],
  write_tests: ["scan", "detect"],
};

/** Model steps a run can do without: their failure is reported, not a reason to skip others. */
const OPTIONAL_STEPS = ["code", "write_tests"];

/** The steps whose files (or, for the tests, verdict) the reviewer must see when in a plan. */
const PRODUCERS = ["generate_ci", "write_docs", "code", "write_tests", "test", "verify_ci"];

/** The model's answer: the steps to run and their order. */
export const ModelPlan = z.strictObject({
  tasks: z.array(z.strictObject({
    id: z.string(),
    kind: z.string(),
    dependsOn: z.array(z.string()).default([]),
  })).min(1).max(40),
  /** Why this plan, in a sentence; kept in the ledger. */
  rationale: z.string().max(2000).optional(),
});

/** The facts the model plans from: what the first tasks found. */
export interface RepoFacts {
  scan?: ScanResult;
  detect?: Detection;
  assess?: { findings?: Finding[] } | Finding[];
}

/** One try at a plan: what the model said and what was wrong with it. */
export interface PlanAttempt {
  attempt: number;
  ok: boolean;
  problems: string[];
}

function describeFacts(goal: string, facts: RepoFacts): string {
  const findings = Array.isArray(facts.assess) ? facts.assess : facts.assess?.findings ?? [];
  return JSON.stringify(
    {
      goal,
      files: facts.scan?.files.length ?? 0,
      languages: facts.detect?.languages ?? {},
      projects: (facts.detect?.projects ?? []).map((p) => ({
        type: p.type,
        dir: p.dir,
        test: p.test ?? null,
      })),
      existingCi: facts.detect?.existingCi ?? [],
      findings: findings.slice(0, 30).map((f) => `${f.severity} ${f.rule}: ${f.message}`),
    },
    null,
    2,
  );
}

/** The JSON in an answer: the whole text, or the first fenced block or braces in it. */
function jsonIn(text: string): unknown {
  const fenced = text.match(/```(?:json)?\s*([\s\S]*?)```/);
  const candidate = fenced ? fenced[1] : text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1);
  return JSON.parse(candidate || text);
}

/**
 * Plans a run with a model: the goal and the repository's facts go to it, and it answers with
 * the steps to run as JSON. The answer is checked against the team's steps, the `TaskPacket`
 * schema and `validatePlan`; what is wrong goes back to the model, at most `maxAttempts` times.
 * Returns the plan (the steps already done included), or why there is none, for the caller to
 * fall back to the offline planner.
 */
export async function planWithModel(o: {
  goal: string;
  facts: RepoFacts;
  /** The team's steps with their inputs, as the offline planner makes them, by kind. */
  steps: TaskPacketInput[];
  /** Ids of the steps already done. */
  done: string[];
  capabilities: ReadonlySet<string>;
  /** Asks the model; `avoid` names providers whose plans could not be used, tried last. */
  ask: (messages: ChatMessage[], avoid: string[]) => Promise<GatewayReply>;
  /** What past runs learned from similar work, one line each. */
  lessons?: string[];
  maxAttempts?: number;
  onAttempt?: (a: PlanAttempt) => void;
}): Promise<{ plan: TaskPacketInput[]; model: string; rationale?: string } | { fallback: string }> {
  const byKind = new Map(o.steps.map((s) => [s.kind, s]));
  const available = [...byKind.keys()].filter((k) => !o.done.includes(k));
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: [
        "You plan work for troupe, a team of software-development agents working on one repository.",
        "Steps the team can run (kind: what it does):",
        ...[...byKind.keys()].map((k) => `- ${k}: ${STEPS[k] ?? k}`),
        `Already done, with these ids: ${o.done.join(", ")}. Depend on them as needed.`,
        "Answer with one JSON object and nothing else:",
        '{"tasks": [{"id": "<kind>", "kind": "<kind>", "dependsOn": ["<ids>"]}], "rationale": "<one sentence>"}',
        `Use only these kinds for new tasks, each at most once, its kind as its id: ${
          available.join(", ")
        }.`,
        "Each step needs the steps it reads: " +
        available.filter((k) => NEEDS[k]?.length).map((k) => `${k} needs ${NEEDS[k].join(", ")}`)
          .join("; ") +
        "; review must also depend on every step that makes files (" + PRODUCERS.join(", ") + ")" +
        " in the plan, and should come last. No cycles.",
      ].join("\n"),
    },
    {
      role: "user",
      content: describeFacts(o.goal, o.facts) +
        (o.lessons?.length
          ? `\n\nLessons from similar past work:\n${o.lessons.map((l) => `- ${l}`).join("\n")}`
          : ""),
    },
  ];
  const attempts = o.maxAttempts ?? 3;
  let lastProblem = "";
  const avoid: string[] = [];
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const reply = await o.ask(messages, avoid);
    if (!reply.ok) return { fallback: `the model could not be asked: ${reply.error}` };
    const problems = check(reply.text, byKind, available, o.done, o.steps, o.capabilities);
    o.onAttempt?.({
      attempt,
      ok: !Array.isArray(problems),
      problems: Array.isArray(problems) ? problems : [],
    });
    if (!Array.isArray(problems)) {
      return { plan: problems.plan, model: reply.model, rationale: problems.rationale };
    }
    lastProblem = problems.join("; ");
    // The next try goes first to another provider, if there is one: bad content is a failure too.
    if (!avoid.includes(reply.provider)) avoid.push(reply.provider);
    messages.push(
      { role: "assistant", content: reply.text },
      {
        role: "user",
        content: `That plan cannot run:\n${problems.map((p) => `- ${p}`).join("\n")}\n` +
          "Answer again with the corrected JSON object only.",
      },
    );
  }
  return {
    fallback: `the model's plan was still invalid after ${attempts} attempts: ${lastProblem}`,
  };
}

/** The plan in `text`, or what is wrong with it. */
function check(
  text: string,
  byKind: Map<string, TaskPacketInput>,
  available: string[],
  done: string[],
  steps: TaskPacketInput[],
  capabilities: ReadonlySet<string>,
): { plan: TaskPacketInput[]; rationale?: string } | string[] {
  let data: unknown;
  try {
    data = jsonIn(text);
  } catch {
    return ["the answer is not a JSON object"];
  }
  const parsed = ModelPlan.safeParse(data);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => `at ${i.path.join(".") || "(top)"}: ${i.message}`);
  }
  const problems: string[] = [];
  const planned: TaskPacketInput[] = steps.filter((s) => done.includes(s.id));
  for (const t of parsed.data.tasks) {
    if (done.includes(t.id)) continue; // the model repeated a step that is done: keep the done one
    const step = byKind.get(t.kind);
    if (!step || !available.includes(t.kind)) {
      problems.push(`task ${t.id}: unknown kind "${t.kind}"; use one of ${available.join(", ")}`);
      continue;
    }
    // Agents read their inputs by the ids of the steps they need, so a step keeps its kind as
    // its id and depends at least on what it reads; the model chooses the steps and may order
    // them further.
    if (t.id !== t.kind) {
      problems.push(`task ${t.id}: give it the id "${t.kind}", its kind`);
      continue;
    }
    const needs = (NEEDS[t.kind] ?? step.dependsOn ?? []).filter((d) => !t.dependsOn.includes(d));
    if (needs.length > 0) {
      problems.push(`task ${t.id}: it reads the output of ${needs.join(", ")}; add to dependsOn`);
      continue;
    }
    planned.push({ ...step, dependsOn: t.dependsOn });
  }
  // The tests are written for the code the coder produced (when it does not wait for them), and
  // a model step that fails neither skips them nor hides the rest from review.
  const code = planned.find((t) => t.kind === "code");
  const tests = planned.find((t) => t.kind === "write_tests");
  if (code && tests && !(code.dependsOn ?? []).includes(tests.id)) {
    tests.dependsOn = [...new Set([...(tests.dependsOn ?? []), code.id])];
    tests.optional = [code.id];
  }
  const review = planned.find((t) => t.kind === "review");
  if (review) {
    review.optional = (review.dependsOn ?? []).filter((d) => OPTIONAL_STEPS.includes(d));
    const unreviewed = planned.filter((t) =>
      PRODUCERS.includes(t.kind) && !(review.dependsOn ?? []).includes(t.id)
    );
    for (const t of unreviewed) {
      problems.push(`task review: it must depend on ${t.id}, whose results it reviews`);
    }
  }
  if (problems.length > 0) return problems;
  try {
    validatePlan(planned, capabilities);
  } catch (err) {
    if (err instanceof PlanError) return err.problems;
    throw err;
  }
  return { plan: planned, ...(parsed.data.rationale ? { rationale: parsed.data.rationale } : {}) };
}
