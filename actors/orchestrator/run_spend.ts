import type { LlmCallRecord } from "../llm/llm_gateway.ts";
import type { Progress } from "./orchestrator.ts";
import type { ModelSpend } from "./run_report.ts";

/** What one task spent on models, and the model that last answered it. */
export interface TaskSpend {
  tokens: number;
  costUsd: number;
  model: string | null;
}

/**
 * A run's spending on models, accounted in one place: each model call the gateway announces is
 * added to the run's total, its model's and its task's. The report, the progress line and the
 * lessons read it from here.
 */
export class SpendMeter {
  readonly total: ModelSpend = {
    calls: 0,
    inputTokens: 0,
    outputTokens: 0,
    costUsd: 0,
    byModel: {},
  };
  readonly byTask = new Map<string, TaskSpend>();
  /** Calls a model answered (failed attempts are in `total.calls` too). */
  answered = 0;

  /** Adds one model call. */
  add(record: LlmCallRecord): void {
    const model = record.responseModel ?? record.model;
    if (record.outcome === "ok") this.answered++;
    if (record.outcome === "ok" && !record.priced && !this.total.unpriced?.includes(model)) {
      (this.total.unpriced ??= []).push(model);
    }
    const by = this.total.byModel[model] ??= {
      calls: 0,
      inputTokens: 0,
      outputTokens: 0,
      costUsd: 0,
    };
    for (const s of [this.total, by]) {
      s.calls++;
      s.inputTokens += record.inputTokens;
      s.outputTokens += record.outputTokens;
      s.costUsd += record.costUsd;
    }
    if (record.taskId) {
      const t = this.byTask.get(record.taskId) ?? { tokens: 0, costUsd: 0, model: null };
      t.tokens += record.inputTokens + record.outputTokens;
      t.costUsd += record.costUsd;
      if (record.outcome === "ok") t.model = model;
      this.byTask.set(record.taskId, t);
    }
  }

  /** The figures a progress line shows. */
  progress(): NonNullable<Progress["spend"]> {
    const { calls, inputTokens, outputTokens, costUsd } = this.total;
    return { calls, tokens: inputTokens + outputTokens, costUsd };
  }
}
