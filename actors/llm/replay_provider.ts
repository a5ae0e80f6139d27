import type { z } from "zod";
import type { ChatAnswer, ChatRequest, ModelProvider, ToolCall } from "./model_call.ts";
import { LlmError } from "./model_call.ts";

/** One answer a model gave in an earlier run, as its `llm_call` event recorded it. */
export interface RecordedAnswer {
  taskId: string | null;
  role: string;
  text: string;
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** The tools the model called. */
  toolCalls?: ToolCall[];
  /** The answer was itself given again from this run's record (a fork's reused answer). */
  replayedFrom?: string;
}

/**
 * Answers from a recording instead of a model: the n-th call a role makes in a task gets the
 * n-th answer that role got in that task in the recorded run. Matching by place, not by the
 * prompt's text, because prompts carry what differs from run to run (scratch paths, dates,
 * test timings); a run that asks more than was recorded is told it has gone another way.
 */
export class ReplayProvider implements ModelProvider {
  readonly name = "replay";
  readonly #queues = new Map<string, RecordedAnswer[]>();

  constructor(readonly from: string, answers: RecordedAnswer[]) {
    for (const a of answers) {
      const key = `${a.taskId}/${a.role}`;
      this.#queues.set(key, [...this.#queues.get(key) ?? [], a]);
    }
  }

  /** Whether an answer is left for this task and role. */
  has(taskId: string | null, role: string): boolean {
    return (this.#queues.get(`${taskId}/${role}`)?.length ?? 0) > 0;
  }

  chat(
    _model: string,
    request: z.output<typeof ChatRequest>,
    _signal: AbortSignal,
    onToken?: (text: string) => void,
  ): Promise<ChatAnswer> {
    const next = this.#queues.get(`${request.taskId}/${request.role}`)?.shift();
    if (!next) {
      return Promise.reject(
        new LlmError(
          "llm_no_provider",
          `run ${this.from} recorded no further answer for the ${request.role} in task ` +
            `${request.taskId ?? "(none)"}: this run has gone another way than the recorded one`,
        ),
      );
    }
    onToken?.(next.text);
    return Promise.resolve({
      text: next.text,
      model: next.model,
      inputTokens: next.inputTokens,
      outputTokens: next.outputTokens,
      finishReason: next.toolCalls?.length ? "tool_calls" : "stop",
      ...(next.toolCalls?.length ? { toolCalls: next.toolCalls } : {}),
    });
  }
}
