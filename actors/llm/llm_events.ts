import { z } from "zod";
import { eventType } from "../../ledger/mod.ts";
import type { Ledger } from "../../ledger/mod.ts";
import { LlmCallRecord } from "./llm_gateway.ts";
import type { RecordedAnswer } from "./replay_provider.ts";
import { ToolCallRecord } from "./tool_desk_protocol.ts";

/** One model call: tokens, cost, latency, outcome and the redacted request and response. */
export const LlmCall = eventType("llm_call", LlmCallRecord);

/** One try of the model planner, and what was wrong with its plan. */
export const PlanAttempted = eventType(
  "plan_attempted",
  z.object({ attempt: z.number().int(), ok: z.boolean(), problems: z.array(z.string()) }),
);

/** The model gave no usable plan; the run goes on with the offline one, and says why. */
export const PlanFallback = eventType("plan_fallback", z.object({ reason: z.string() }));

/** The answers run `runId` got from models (before event `beforeSeq`), in the order it got them. */
export async function recordedAnswers(
  ledger: Ledger,
  runId: string,
  beforeSeq = Infinity,
): Promise<RecordedAnswer[]> {
  const answers: RecordedAnswer[] = [];
  for await (const e of ledger.events([LlmCall], { runId })) {
    if (e.seq >= beforeSeq) break;
    const r = e.payload;
    if (r.outcome !== "ok" || r.response === null) continue;
    answers.push({
      taskId: r.taskId,
      role: r.role,
      text: r.response,
      model: r.responseModel ?? r.model,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
      ...(r.toolCalls?.length ? { toolCalls: r.toolCalls } : {}),
      ...(r.replayedFrom ? { replayedFrom: r.replayedFrom } : {}),
    });
  }
  return answers;
}

/**
 * What was spent on models before a gateway starts, as its budgets count it: by run (`runId`),
 * by run and role (`runId/role`), today (UTC) over every run (`today`) and today by provider
 * (`today/NAME`). A resumed run goes on from what it spent, and a day's budget holds across runs.
 */
export async function spentSoFar(
  ledger: Ledger,
  runId: string,
  now = Date.now(),
): Promise<Record<string, number>> {
  const spent: Record<string, number> = {};
  const midnight = Math.floor(now / 86_400_000) * 86_400_000;
  for await (const e of ledger.events([LlmCall])) {
    const cost = e.payload.costUsd;
    if (cost === 0) continue;
    if (e.ts >= midnight) {
      spent.today = (spent.today ?? 0) + cost;
      const provider = `today/${e.payload.provider}`;
      spent[provider] = (spent[provider] ?? 0) + cost;
    }
    if (e.runId === runId) {
      spent[runId] = (spent[runId] ?? 0) + cost;
      const role = `${runId}/${e.payload.role}`;
      spent[role] = (spent[role] ?? 0) + cost;
    }
  }
  return spent;
}

/** One tool call of an agent: the policy's effect, the arguments and the bounded result. */
export const ToolCalled = eventType("tool_call", ToolCallRecord);

/** The tool calls run `runId` made, in order. */
export async function recordedToolCalls(
  ledger: Ledger,
  runId: string,
): Promise<ToolCallRecord[]> {
  const calls: ToolCallRecord[] = [];
  for await (const e of ledger.events([ToolCalled], { runId })) calls.push(e.payload);
  return calls;
}
