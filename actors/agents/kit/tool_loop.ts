import { join } from "node:path";
import { createTwoFilesPatch } from "diff";
import type { ChatMessage, ToolCall, ToolSpec } from "../../llm/model_call.ts";
import type { GatewayReply } from "../../llm/llm_gateway.ts";
import type { CallDecision, OpenedTools, ToolDeskMessage } from "../../llm/tool_desk_protocol.ts";
import type { GeneratedFile } from "../../tasks/repo_facts.ts";
import { copyTree } from "./copy_tree.ts";
import { readText } from "./repo_reads.ts";
import { fed } from "../../../runtime/effects.ts";
import type { TestRun } from "./run_tests.ts";
import { applyUnifiedDiff, extractPatch } from "./unified_diff.ts";
import {
  bounded,
  READING_TOOLS,
  type ToolResult,
  type Workspace,
  type WorkspaceTool,
  workspaceToolSpecs,
} from "./workspace_tools.ts";

/** How a tool-calling agent asks the model and the run's tool desk. */
export interface LoopPorts {
  ask(messages: ChatMessage[], tools: ToolSpec[]): Promise<GatewayReply>;
  desk<T>(message: ToolDeskMessage): Promise<T>;
}

/** One agent's session of tool calls: its prompts, where it works, and its limits. */
export interface LoopOptions {
  runId: string | null;
  taskId: string;
  role: string;
  system: string;
  user: string;
  /** The repository as it was: the change is the scratch copy's difference from it. */
  original: string;
  workspace: Workspace;
  /** Model turns at most. */
  maxSteps: number;
  /** Tokens (in and out) the session may spend at most. */
  maxTokens: number;
  /** Finished answers (done, or a diff) whose tests may fail before the session gives up. */
  maxAttempts: number;
  /** Why the files changed, as the report says. */
  reason: string;
  /** Puts the copy back where the session starts, before a diff answer (default: the original). */
  reset?: () => Promise<void>;
  /**
   * The agent's own check of a finished answer (default: the project's tests, recorded as a
   * `run_tests` call of step 0; a project without tests gives the change nothing to fail).
   */
  check?: (attempt: number) => Promise<Verdict>;
}

/** What the agent's check made of a finished answer; `feedback` goes back to the model. */
export interface Verdict {
  ok: boolean;
  feedback: string;
  tests: TestRun[];
  /** Whatever else the check found (the test writer's mutants). */
  found?: unknown;
}

/** What a session came to. */
export interface LoopResult {
  files: GeneratedFile[];
  patch: string;
  /** Finished answers tried. */
  attempts: number;
  steps: number;
  tokens: number;
  tests: TestRun[];
  model: string;
  /** What ended it: the tests passed, or the model said done and they passed. */
  stoppedBy: "tests_passed" | "done";
  found?: unknown;
}

/**
 * The loop the coder and the test writer work in, as SWE-agent and Claude Code do: the model
 * calls tools (read, search, edit, run the tests) on a scratch copy until the tests pass or it
 * says it is done; a model without tool calling may answer with a unified diff instead. Every
 * call is decided and recorded by the run's tool desk (`tool.call`, resource `builtin/TOOL` or
 * `mcp/SERVER/TOOL`); a refused call is told to the model, which goes on. It ends at the step or
 * token limit, with an error naming it.
 */
export async function toolLoop(o: LoopOptions, ports: LoopPorts): Promise<LoopResult> {
  const task = { runId: o.runId, taskId: o.taskId, role: o.role };
  const opened = await ports.desk<OpenedTools>({
    type: "open",
    ...task,
    workspace: o.workspace.root,
  });
  const tools = [...workspaceToolSpecs(), ...opened.tools];
  const mcp = new Set(opened.tools.map((t) => t.name));
  const note = opened.problems.length ? `\n\nNot available: ${opened.problems.join("; ")}` : "";
  const messages: ChatMessage[] = [
    { role: "system", content: o.system },
    { role: "user", content: o.user + note },
  ];
  let tokens = 0;
  let attempts = 0;
  let model = "";
  let last = "";

  /** Runs one call through the desk: decided, answered or run here, recorded. */
  const call = async (step: number, c: ToolCall): Promise<ToolResult> => {
    // An MCP server may write the copy itself: what it changed is part of the change, and of
    // the task's effects (a replay, where no server runs, writes it again).
    const before = mcp.has(c.name) ? await o.workspace.snapshot() : undefined;
    const r = await throughDesk(ports, task, step, c, () => o.workspace.call(c.name, c.arguments));
    if (before) {
      const key = `${task.taskId} ${step} ${c.name}`;
      await o.workspace.absorb(
        await fed("mcp.writes", key, () => o.workspace.changedSince(before)),
      );
    }
    return r;
  };
  const verdictOf = (r: ToolResult): Verdict => ({
    ok: r.ok || r.tests?.length === 0,
    feedback: `With your change the tests fail:\n${r.text}`,
    tests: r.tests ?? [],
  });
  const check = o.check ??
    (async (n: number) =>
      verdictOf(await call(0, { id: `check-${n}`, name: "run_tests", arguments: {} })));
  const reset = o.reset ?? (async () => {
    await Deno.remove(o.workspace.root, { recursive: true }).catch(() => {});
    await copyTree(o.original, o.workspace.root);
  });

  try {
    for (let step = 1; step <= o.maxSteps; step++) {
      const reply = await ports.ask(messages, tools);
      if (!reply.ok) throw new Error(`the model could not be asked: ${reply.error}`);
      model = reply.model;
      tokens += reply.inputTokens + reply.outputTokens;
      let finished = false;
      /** The whole suite passed on the changed copy, and nothing was changed after. */
      let passed: ToolResult | undefined;
      if (reply.toolCalls?.length) {
        messages.push({ role: "assistant", content: reply.text, toolCalls: reply.toolCalls });
        for (const c of reply.toolCalls) {
          const r = await call(step, c);
          messages.push({ role: "tool", toolCallId: c.id, content: r.text });
          if (c.name === "done" && r.ok) finished = true;
          if (c.name === "run_tests" && r.ok && !c.arguments.file && o.workspace.touched.size) {
            passed = r;
          } else if (!READING_TOOLS.includes(c.name as WorkspaceTool) && c.name !== "done") {
            passed = undefined;
          }
        }
        // The whole suite passing on a changed copy is the goal reached.
        if (passed) finished = true;
      } else {
        messages.push({ role: "assistant", content: reply.text });
        const diff = /^(---|\+\+\+|@@) /m.test(extractPatch(reply.text));
        if (diff) {
          // A diff is against the code as the session began: the copy starts again from it.
          await reset();
          o.workspace.touched.clear();
          try {
            const files = await applyUnifiedDiff(o.workspace.root, extractPatch(reply.text));
            for (const f of files) o.workspace.touched.add(f.path);
          } catch (err) {
            last = `Your patch cannot be applied: ${(err as Error).message}`;
            attempts++;
            if (attempts >= o.maxAttempts) break;
            messages.push({ role: "user", content: `${last}\n\nAnswer with a corrected diff.` });
            continue;
          }
        }
        finished = true;
      }
      if (!finished) {
        if (tokens > o.maxTokens) {
          throw new Error(`the session spent ${tokens} tokens, over its ${o.maxTokens}`);
        }
        continue;
      }
      attempts++;
      if (o.workspace.touched.size === 0) {
        last = "You have changed nothing yet.";
      } else {
        const v = passed && !o.check ? verdictOf(passed) : await check(attempts);
        if (v.ok) {
          const { files, patch } = await changes(
            o.original,
            o.workspace.root,
            o.workspace.touched,
            o.reason,
          );
          const stoppedBy = passed ? "tests_passed" : "done";
          return {
            files,
            patch,
            attempts,
            steps: step,
            tokens,
            tests: v.tests,
            model,
            stoppedBy,
            found: v.found,
          };
        }
        last = v.feedback;
      }
      if (attempts >= o.maxAttempts || tokens > o.maxTokens) break;
      messages.push({
        role: "user",
        content: `${last}\n\nGo on: fix it with the tools, or answer with a corrected diff.`,
      });
    }
  } finally {
    await ports.desk({ type: "close", ...task });
  }
  throw new Error(
    `no change passed the project's tests (${attempts} finished answers, ${tokens} tokens): ` +
      (last.split("\n")[0] || `the step limit (${o.maxSteps}) was reached`),
  );
}

/**
 * The files the session changed, compared with the repository as it was (only those its tools
 * touched: what running the tests left behind is not a change), and the unified diff of them.
 */
export async function changes(
  original: string,
  scratch: string,
  touched: Set<string>,
  reason: string,
): Promise<{ files: GeneratedFile[]; patch: string }> {
  const read = (root: string, path: string) => readText(join(root, path));
  const files: GeneratedFile[] = [];
  const patches: string[] = [];
  for (const path of [...touched].sort()) {
    const [before, after] = [await read(original, path), await read(scratch, path)];
    if (before === after) continue;
    const mode = before === null ? "create" : after === null ? "delete" : "replace";
    files.push({ path, content: after ?? "", mode, reason });
    patches.push(
      createTwoFilesPatch(
        before === null ? "/dev/null" : `a/${path}`,
        after === null ? "/dev/null" : `b/${path}`,
        before ?? "",
        after ?? "",
      ),
    );
  }
  return { files, patch: bounded(patches.join(""), 1_000_000) };
}

/**
 * A model's answer after it has looked around: it is offered the reading tools (list, read,
 * search) on `workspace`, each call decided and recorded by the desk as in the loop, until it
 * answers without a call or `maxRounds` pass (then it is asked to answer without tools). The
 * planner reads the repository this way before it gives its plan.
 */
export async function answerAfterReading(
  messages: ChatMessage[],
  ports: LoopPorts,
  workspace: Workspace,
  task: { runId: string | null; taskId: string; role: string },
  maxRounds = 8,
): Promise<GatewayReply> {
  const tools = workspaceToolSpecs().filter((t) =>
    READING_TOOLS.includes(t.name as WorkspaceTool) && t.name !== "last_failure"
  );
  const talk = [...messages];
  for (let round = 1;; round++) {
    const reply = await ports.ask(talk, round <= maxRounds ? tools : []);
    if (!reply.ok || !reply.toolCalls?.length || round > maxRounds) return reply;
    talk.push({ role: "assistant", content: reply.text, toolCalls: reply.toolCalls });
    for (const c of reply.toolCalls) {
      const r = await throughDesk(
        ports,
        task,
        round,
        c,
        () =>
          tools.some((t) => t.name === c.name)
            ? workspace.call(c.name, c.arguments)
            : Promise.resolve({
              ok: false,
              text: `${c.name} is not offered here; only ${tools.map((t) => t.name)}`,
            }),
      );
      talk.push({ role: "tool", toolCallId: c.id, content: r.text });
    }
  }
}

/**
 * One tool call through the run's desk: refused (the model is told why), answered by the desk (an
 * MCP tool, or a recorded result on a replay), or run here by `run` and reported for the ledger.
 */
async function throughDesk(
  ports: LoopPorts,
  task: { runId: string | null; taskId: string; role: string },
  step: number,
  c: ToolCall,
  run: () => Promise<ToolResult>,
): Promise<ToolResult> {
  const started = performance.now();
  const d = await ports.desk<CallDecision>({ type: "call", ...task, step, call: c });
  if (d.effect !== "allow") return { ok: false, text: `refused by policy: ${d.reason}` };
  if (d.result) return d.result;
  const r = await run();
  await ports.desk({
    type: "done",
    ...task,
    step,
    call: c,
    ok: r.ok,
    result: r.text,
    durationMs: Math.round(performance.now() - started),
  });
  return r;
}
