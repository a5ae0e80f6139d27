import { z } from "zod";
import { CompliancePack } from "../../policies/mod.ts";

/**
 * Every kind of task the repo-ops team does: the capability an agent must have to take it and
 * the inputs it reads, as one schema. Planners build tasks from this table, agents declare their
 * handlers against it, and an agent checks a task's inputs before it works, so a task with bad
 * inputs fails with a message naming the field instead of deep inside a handler.
 */

const RunsRepositoryCode = {
  repo: z.string().min(1),
  /** A folder for copies of the repository: its code never runs in the repository itself. */
  scratch: z.string().min(1),
  /** Without bubblewrap, by the user's explicit choice. */
  unsandboxed: z.boolean().default(false),
  /** Toolchain folders in the user's home the sandbox shows read-only (`--home-toolchains`). */
  homeToolchains: z.array(z.string().min(1)).default([]),
};

/** What a step done with a model reads: the goal, where the gateway is, how to route. */
export const ModelStepInputs = z.object({
  goal: z.string(),
  ...RunsRepositoryCode,
  gateway: z.string().min(1),
  /** The run's tool desk, which decides and records every tool call (absent: no tools). */
  toolDesk: z.string().min(1).optional(),
  runId: z.string().nullable().default(null),
  localOnly: z.boolean().default(false),
  prefer: z.array(z.string()).default([]),
  complexity: z.enum(["low", "medium", "high"]).optional(),
  maxAttempts: z.number().int().min(1).max(10).default(3),
  /** A tool-calling session's model turns at most, and its tokens (in and out). */
  maxSteps: z.number().int().min(1).max(200).default(30),
  maxTokens: z.number().int().positive().default(1_000_000),
  testTimeoutMs: z.number().int().positive().default(300_000),
});
export type ModelStepInputs = z.output<typeof ModelStepInputs>;

const Nothing = z.object({});

/** Where a run deploys what its review approved (`--deploy ENV`): a local environment. */
export const DeployTarget = z.object({
  env: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, "1-32 lowercase letters, digits, - or _"),
  /** The deploy root: `<root>/<env>/` holds the state, the releases and the proxy. */
  root: z.string().min(1),
  /** Where the proxy listens, the first time an environment is deployed to. */
  port: z.number().int().min(1).max(65535).optional(),
  health: z.string().startsWith("/").optional(),
});
export type DeployTarget = z.infer<typeof DeployTarget>;

export const TASK_KINDS = {
  scan: { capability: "repo.scan", inputs: z.object({ repo: z.string().min(1) }) },
  detect: { capability: "repo.detect", inputs: Nothing },
  assess: {
    capability: "repo.assess",
    inputs: z.object({ packs: z.array(CompliancePack).default([]) }),
  },
  plan_repairs: { capability: "plan.repairs", inputs: Nothing },
  generate_ci: { capability: "ci.generate", inputs: Nothing },
  /** `date` is the day the CHANGELOG entry is dated (the run's, so a replay writes the same). */
  write_docs: { capability: "docs.write", inputs: z.object({ date: z.string().optional() }) },
  review: { capability: "patch.review", inputs: Nothing },
  verify_ci: {
    capability: "repo.test",
    inputs: z.object({
      ...RunsRepositoryCode,
      allowInstallNetwork: z.boolean().default(false),
      timeoutMs: z.number().int().positive().default(600_000),
    }),
  },
  test: {
    capability: "repo.test",
    inputs: z.object({
      ...RunsRepositoryCode,
      timeoutMs: z.number().int().positive().default(300_000),
    }),
  },
  /** Each ecosystem's API documentation tool, run sandboxed (`--api-docs`). */
  api_docs: {
    capability: "docs.api",
    inputs: z.object({
      ...RunsRepositoryCode,
      timeoutMs: z.number().int().positive().default(300_000),
    }),
  },
  /**
   * Deploys the repository, once the run's review approved it (and its tests passed), to a local
   * environment: blue-green behind nginx with rollback (`--deploy ENV`; see `deno task deploy`).
   */
  deploy: {
    capability: "service.deploy",
    inputs: DeployTarget.extend({ repo: z.string().min(1) }),
  },
  code: { capability: "code.write", inputs: ModelStepInputs },
  write_tests: { capability: "tests.write", inputs: ModelStepInputs },
} as const;

export type TaskKind = keyof typeof TASK_KINDS;
/** The inputs a handler of `K` receives, defaults filled in. */
export type InputsOf<K extends TaskKind> = z.output<(typeof TASK_KINDS)[K]["inputs"]>;
/** The inputs a planner gives a task of `K`. */
export type PlannedInputsOf<K extends TaskKind> = z.input<(typeof TASK_KINDS)[K]["inputs"]>;
