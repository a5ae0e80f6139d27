import { join } from "node:path";
import { defineAgent } from "../tasks/define_agent.ts";
import type { ChatMessage, ToolSpec } from "../llm/model_call.ts";
import type { ModelStepInputs } from "../tasks/task_kinds.ts";
import type { GatewayReply } from "../llm/llm_gateway.ts";
import type { ToolDeskMessage } from "../llm/tool_desk_protocol.ts";
import type { Detection, GeneratedFile, ScanResult } from "../tasks/repo_facts.ts";
import type { TestRun } from "./kit/run_tests.ts";
import { copyTree } from "./kit/copy_tree.ts";
import { repositoryContext } from "./kit/repository_context.ts";
import { type LoopPorts, toolLoop } from "./kit/tool_loop.ts";
import { Workspace } from "./kit/workspace_tools.ts";
import { writeTests } from "./kit/test_writer.ts";
import type { ActorContext } from "../../runtime/mod.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

/** What the coder hands on: the files its change makes, the patch, and how the tests went. */
export interface CodeChange {
  files: GeneratedFile[];
  patch: string;
  /** Finished answers tried (the model said done, or gave a diff). */
  attempts: number;
  /** Model turns of the tool-calling session. */
  steps: number;
  tests: TestRun[];
  model: string;
}

const SYSTEM = [
  "You are the coder of troupe, a team of software-development agents.",
  "Change the repository to reach the goal, working with the tools on a scratch copy of it:",
  "read and search the files, edit them, run the tests, read the failure, and go on until the",
  "project's tests pass; then call done. Keep the project's tests passing; add tests for what",
  "you add. Without tools, answer with one unified diff in a ```diff block instead, paths as",
  "a/FILE and b/FILE (--- /dev/null for a new file), hunks with 3 lines of context.",
].join("\n");

/**
 * The coder: a tool-calling session with the model (through the gateway actor) on a scratch copy
 * of the repository (never the repository itself), whose tests run with the tester's
 * restrictions, every tool call decided and recorded by the run's tool desk. What it returns
 * goes through the reviewer and, with `--apply`, through policy and approvals like any generated
 * file.
 */
export async function writeCode(
  inputs: ModelStepInputs,
  deps: Record<string, unknown>,
  ports: LoopPorts,
): Promise<CodeChange> {
  const { repo } = inputs;
  const scratch = join(inputs.scratch, "repo");
  const scan = deps.scan as ScanResult;
  await Deno.remove(scratch, { recursive: true }).catch(() => {});
  await copyTree(repo, scratch);
  const workspace = new Workspace(scratch, deps.detect as Detection, inputs.testTimeoutMs, {
    unsandboxed: inputs.unsandboxed,
    homeToolchains: inputs.homeToolchains,
  });
  const r = await toolLoop({
    runId: inputs.runId,
    taskId: "code",
    role: "coder",
    system: SYSTEM,
    user: `Goal: ${inputs.goal}\n\n${await repositoryContext(repo, scan)}`,
    original: repo,
    workspace,
    maxSteps: inputs.maxSteps,
    maxTokens: inputs.maxTokens,
    maxAttempts: inputs.maxAttempts,
    reason: "the coder's change, tested on a scratch copy",
  }, ports);
  return {
    files: r.files,
    patch: r.patch,
    attempts: r.attempts,
    steps: r.steps,
    tests: r.tests,
    model: r.model,
  };
}

/** How an agent asks the gateway (and, with tools, the run's tool desk), for one task of a run. */
function ports(
  inputs: ModelStepInputs,
  ctx: ActorContext<unknown>,
  role: string,
  taskId: string,
): LoopPorts {
  const ask = (messages: ChatMessage[], tools: ToolSpec[]) =>
    ctx.ask<GatewayReply>(inputs.gateway, {
      type: "chat",
      role,
      messages,
      tools,
      localOnly: inputs.localOnly,
      prefer: inputs.prefer,
      ...(inputs.complexity ? { complexity: inputs.complexity } : {}),
      runId: inputs.runId,
      taskId,
    }, { timeoutMs: 600_000 });
  return {
    ask,
    desk<T>(message: ToolDeskMessage) {
      if (!inputs.toolDesk) {
        return Promise.reject(new Error("this task was given no tool desk (inputs.toolDesk)"));
      }
      // An MCP tool or a test run may take as long as the tests do.
      return ctx.ask<T>(inputs.toolDesk, message, { timeoutMs: inputs.testTimeoutMs + 60_000 });
    },
  };
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  code: (inputs, deps, ctx) => writeCode(inputs, deps, ports(inputs, ctx, "coder", "code")),
  write_tests: (inputs, deps, ctx) =>
    writeTests(inputs, deps, ports(inputs, ctx, "tester", "write_tests")),
});
