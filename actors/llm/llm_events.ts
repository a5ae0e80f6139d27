import { z } from "zod";
import { eventType } from "../../ledger/mod.ts";
import type { Ledger } from "../../ledger/mod.ts";
import { LlmCallRecord } from "./llm_gateway.ts";
import type { RecordedAnswer } from "./replay_provider.ts";

/** One model call: tokens, cost, latency, outcome and the redacted request and response. */
export const LlmCall = eventType("llm_call", LlmCallRecord);

/** One try of the model planner, and what was wrong with its plan. */
export const PlanAttempted = eventType(
  "plan_attempted",
  z.object({ attempt: z.number().int(), ok: z.boolean(), problems: z.array(z.string()) }),
);

/** The model gave no usable plan; the run goes on with the offline one, and says why. */
export const PlanFallback = eventType("plan_fallback", z.object({ reason: z.string() }));

/** The answers run `runId` got from models, in the order it got them. */
export async function recordedAnswers(ledger: Ledger, runId: string): Promise<RecordedAnswer[]> {
  const answers: RecordedAnswer[] = [];
  for await (const e of ledger.events([LlmCall], { runId })) {
    const r = e.payload;
    if (r.outcome !== "ok" || r.response === null) continue;
    answers.push({
      taskId: r.taskId,
      role: r.role,
      text: r.response,
      model: r.responseModel ?? r.model,
      inputTokens: r.inputTokens,
      outputTokens: r.outputTokens,
    });
  }
  return answers;
}
