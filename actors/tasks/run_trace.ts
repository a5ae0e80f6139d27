import { type Context, type Span, SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { tracer, tracing } from "../../runtime/trace_context.ts";

/**
 * A run as an OpenTelemetry trace, named by the GenAI semantic conventions: the run is an
 * `invoke_workflow` span, each task attempt a `task` span under it, the agent's handling of the
 * task an `invoke_agent` span (in the agent's own process, joined by the trace context its
 * message carried), and each model call (`chat`) and tool call (`execute_tool`) a span under the
 * agent that made it. Every span has `troupe.run.id` and `troupe.ledger.seq`, the ledger event
 * it stands for (a run's or task's first; `troupe.ledger.end_seq`, its last), so that a trace and
 * the ledger can be joined. Exported only when Deno's OpenTelemetry is on (`OTEL_DENO=true`).
 */

/** A finished span's outcome: an error names its type (`error.type`) and message. */
function close(span: Span, error?: string, errorType = "troupe.failed"): void {
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.slice(0, 500) });
    span.setAttribute("error.type", errorType);
  }
  span.end();
}

/** Runs a whole run inside its `invoke_workflow` span; `seq`: its `run_started` event. */
export function inRunSpan<T>(
  run: { runId: string; goal: string; seq?: number },
  work: (finished: (seq: number) => void) => Promise<T>,
): Promise<T> {
  if (!tracing) return work(() => {});
  return tracer.startActiveSpan("invoke_workflow troupe", {
    kind: SpanKind.INTERNAL,
    attributes: {
      "gen_ai.operation.name": "invoke_workflow",
      "gen_ai.workflow.name": "troupe",
      "troupe.run.id": run.runId,
      "troupe.run.goal": run.goal.slice(0, 200),
      ...(run.seq !== undefined ? { "troupe.ledger.seq": run.seq } : {}),
    },
  }, async (span) => {
    try {
      const result = await work((seq) => span.setAttribute("troupe.ledger.end_seq", seq));
      close(span);
      return result;
    } catch (err) {
      close(span, (err as Error).message, (err as Error).name);
      throw err;
    }
  });
}

/** One attempt of a task on an agent, inside its span; the agent's message goes out in it. */
export function inTaskSpan<T>(
  task: { runId: string; taskId: string; kind: string; attempt: number; agent: string },
  seq: number,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracing) return work(undefined);
  return tracer.startActiveSpan(`task ${task.kind}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      "troupe.run.id": task.runId,
      "troupe.task.id": task.taskId,
      "troupe.task.kind": task.kind,
      "troupe.task.attempt": task.attempt,
      "gen_ai.agent.id": task.agent,
      "troupe.ledger.seq": seq,
    },
  }, (span) => work(span).finally(() => span.end()));
}

/** Marks a task attempt's span with its closing event and outcome (the caller's span ends it). */
export function taskOutcome(span: Span | undefined, seq: number, error?: string): void {
  if (!tracing || !span) return;
  span.setAttribute("troupe.ledger.end_seq", seq);
  if (error !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.slice(0, 500) });
    span.setAttribute("error.type", "troupe.task_failed");
  }
}

/** An agent handling a task message, inside its `invoke_agent` span (in the agent's process). */
export function inAgentSpan<T extends { ok: boolean; error?: string }>(
  agent: string,
  task: { id: string; kind: string },
  started: { runId: string; seq: number } | undefined,
  work: () => Promise<T>,
): Promise<T> {
  if (!tracing) return work();
  return tracer.startActiveSpan(`invoke_agent ${agent}`, {
    kind: SpanKind.INTERNAL,
    attributes: {
      "gen_ai.operation.name": "invoke_agent",
      "gen_ai.agent.name": agent.replace(/-\d+$/, ""),
      "gen_ai.agent.id": agent,
      "troupe.task.id": task.id,
      "troupe.task.kind": task.kind,
      ...(started ? { "troupe.run.id": started.runId, "troupe.ledger.seq": started.seq } : {}),
    },
  }, async (span) => {
    try {
      const reply = await work();
      close(span, reply.ok ? undefined : reply.error ?? "failed");
      return reply;
    } catch (err) {
      close(span, (err as Error).message, (err as Error).name);
      throw err;
    }
  });
}

/** The fields of a model call's record a span is made of (`LlmCallRecord`). */
export interface ChatRecord {
  runId: string | null;
  taskId: string | null;
  role: string;
  system: string;
  provider: string;
  model: string;
  responseModel: string | null;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
  durationMs: number;
  outcome: string;
  error: string | null;
  attempt: number;
  toolCalls?: unknown[];
}

/** `gen_ai.provider.name` of a provider kind: the protocol it speaks. */
const PROVIDER_NAMES: Record<string, string> = {
  openai: "openai",
  anthropic: "anthropic",
  local: "transformers.js",
};

/**
 * A model call as a `chat` span, made from its record once the ledger holds it (`seq`), under
 * `parent` (the agent that asked), ending when the record came.
 */
export function chatSpan(call: ChatRecord, seq: number, parent: Context, endMs: number): void {
  if (!tracing) return;
  const span = tracer.startSpan(`chat ${call.model}`, {
    kind: SpanKind.CLIENT,
    startTime: endMs - call.durationMs,
    attributes: {
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": PROVIDER_NAMES[call.system] ?? call.system,
      "gen_ai.request.model": call.model,
      ...(call.responseModel ? { "gen_ai.response.model": call.responseModel } : {}),
      "gen_ai.usage.input_tokens": call.inputTokens,
      "gen_ai.usage.output_tokens": call.outputTokens,
      ...(call.toolCalls?.length ? { "gen_ai.response.finish_reasons": ["tool_calls"] } : {}),
      "troupe.provider": call.provider,
      "troupe.role": call.role,
      "troupe.cost_usd": call.costUsd,
      "troupe.attempt": call.attempt,
      ...(call.runId ? { "troupe.run.id": call.runId } : {}),
      ...(call.taskId ? { "troupe.task.id": call.taskId } : {}),
      "troupe.ledger.seq": seq,
    },
  }, parent);
  if (call.error !== null) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: call.error.slice(0, 500) });
    span.setAttribute("error.type", call.outcome);
  }
  span.end(endMs);
}

/** The fields of a tool call's record a span is made of (`ToolCallRecord`). */
export interface ToolRecord {
  runId: string | null;
  taskId: string;
  callId: string;
  server: string;
  tool: string;
  effect: string;
  ok: boolean;
  result: string;
  durationMs: number;
}

/**
 * A tool call as an `execute_tool` span, made from its record once the ledger holds it, under
 * `parent` (the agent whose model called it). A call policy did not allow is an error span.
 */
export function toolSpan(call: ToolRecord, seq: number, parent: Context, endMs: number): void {
  if (!tracing) return;
  const span = tracer.startSpan(`execute_tool ${call.tool}`, {
    kind: SpanKind.INTERNAL,
    startTime: endMs - call.durationMs,
    attributes: {
      "gen_ai.operation.name": "execute_tool",
      "gen_ai.tool.name": call.tool,
      "gen_ai.tool.call.id": call.callId,
      "gen_ai.tool.type": call.server === "builtin" ? "function" : "extension",
      "troupe.tool.server": call.server,
      "troupe.policy.effect": call.effect,
      ...(call.runId ? { "troupe.run.id": call.runId } : {}),
      "troupe.task.id": call.taskId,
      "troupe.ledger.seq": seq,
    },
  }, parent);
  if (!call.ok) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: call.result.slice(0, 500) });
    span.setAttribute("error.type", call.effect === "allow" ? "tool_error" : "policy_denied");
  }
  span.end(endMs);
}
