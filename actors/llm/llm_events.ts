import { z } from "zod";
import { eventType } from "../../ledger/mod.ts";
import { LlmCallRecord } from "./llm_gateway.ts";

/** One model call: tokens, cost, latency, outcome and the redacted request and response. */
export const LlmCall = eventType("llm_call", LlmCallRecord);

/** One try of the model planner, and what was wrong with its plan. */
export const PlanAttempted = eventType(
  "plan_attempted",
  z.object({ attempt: z.number().int(), ok: z.boolean(), problems: z.array(z.string()) }),
);

/** The model gave no usable plan; the run goes on with the offline one, and says why. */
export const PlanFallback = eventType("plan_fallback", z.object({ reason: z.string() }));
