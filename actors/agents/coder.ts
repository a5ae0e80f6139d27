import { join } from "node:path";
import { defineAgent } from "../tasks/define_agent.ts";
import type { ChatMessage } from "../llm/model_call.ts";
import type { ModelStepInputs } from "../tasks/task_kinds.ts";
import type { GatewayReply } from "../llm/llm_gateway.ts";
import type { Detection, GeneratedFile, ScanResult } from "../tasks/repo_facts.ts";
import { runTests } from "./kit/run_tests.ts";
import { copyTree } from "./kit/copy_tree.ts";
import { repositoryContext } from "./kit/repository_context.ts";
import { applyUnifiedDiff, extractPatch } from "./kit/unified_diff.ts";
import { writeTests } from "./kit/test_writer.ts";
import type { ActorContext } from "../../runtime/mod.ts";
import { TASK_KINDS } from "../tasks/task_kinds.ts";

/** What the coder hands on: the files its patch changes, the patch, and how the tests went. */
export interface CodeChange {
  files: GeneratedFile[];
  patch: string;
  attempts: number;
  tests: Awaited<ReturnType<typeof runTests>>;
  model: string;
}

/**
 * The coder: asks the model (through the gateway actor) for a patch that reaches the goal,
 * applies it to a scratch copy of the repository (never the repository itself), runs the
 * project's tests there with the tester's restrictions (`sh` only, PATH and HOME only), and sends
 * failures back, within `maxAttempts`. What it returns goes through the reviewer and, with
 * `--apply`, through policy and approvals like any generated file.
 */
export async function writeCode(
  inputs: ModelStepInputs,
  deps: Record<string, unknown>,
  ask: (messages: ChatMessage[]) => Promise<GatewayReply>,
): Promise<CodeChange> {
  const { repo, maxAttempts } = inputs;
  const scratch = join(inputs.scratch, "repo");
  const scan = deps.scan as ScanResult;
  const detection = deps.detect as Detection;
  const messages: ChatMessage[] = [
    {
      role: "system",
      content: [
        "You are the coder of troupe, a team of software-development agents.",
        "Change the repository to reach the goal. Answer with one unified diff in a ```diff block,",
        "paths as a/FILE and b/FILE (--- /dev/null for a new file), hunks with 3 lines of context.",
        "Keep the project's tests passing; add tests for what you add.",
      ].join("\n"),
    },
    {
      role: "user",
      content: `Goal: ${inputs.goal}\n\n${await repositoryContext(repo, scan)}`,
    },
  ];
  let last = "";
  for (let attempt = 1; attempt <= maxAttempts; attempt++) {
    const reply = await ask(messages);
    if (!reply.ok) throw new Error(`the model could not be asked: ${reply.error}`);
    await Deno.remove(scratch, { recursive: true }).catch(() => {});
    await copyTree(repo, scratch);
    const patch = extractPatch(reply.text);
    let feedback: string;
    try {
      const files = await applyUnifiedDiff(scratch, patch);
      const tests = await runTests(scratch, detection, inputs.testTimeoutMs, {
        unsandboxed: inputs.unsandboxed,
        homeToolchains: inputs.homeToolchains,
      });
      // A project without tests gives the patch nothing to fail; a failed run does.
      const failed = tests.filter((t) => t.verdict === "failed");
      if (failed.length === 0) {
        return { files, patch, attempts: attempt, tests, model: reply.model };
      }
      feedback = "With your patch the tests fail:\n" +
        failed.map((t) => `$ ${t.command} (exit ${t.code})\n${t.tail}`).join("\n\n");
    } catch (err) {
      feedback = `Your patch cannot be applied: ${(err as Error).message}`;
    }
    last = feedback.split("\n")[0];
    messages.push(
      { role: "assistant", content: reply.text },
      { role: "user", content: `${feedback}\n\nAnswer again with one corrected unified diff.` },
    );
  }
  throw new Error(`no patch passed the project's tests after ${maxAttempts} attempts: ${last}`);
}

/** How an agent asks the gateway, for one task of a run. */
function asker(
  inputs: ModelStepInputs,
  ctx: ActorContext<unknown>,
  role: string,
  taskId: string,
) {
  return (messages: ChatMessage[]) =>
    ctx.ask<GatewayReply>(inputs.gateway, {
      type: "chat",
      role,
      messages,
      localOnly: inputs.localOnly,
      prefer: inputs.prefer,
      ...(inputs.complexity ? { complexity: inputs.complexity } : {}),
      runId: inputs.runId,
      taskId,
    }, { timeoutMs: 600_000 });
}

export default defineAgent(import.meta.url, TASK_KINDS, {
  code: (inputs, deps, ctx) => writeCode(inputs, deps, asker(inputs, ctx, "coder", "code")),
  write_tests: (inputs, deps, ctx) =>
    writeTests(inputs, deps, asker(inputs, ctx, "tester", "write_tests")),
});
