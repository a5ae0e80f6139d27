import { z } from "zod";
import { ToolCall, type ToolSpec } from "./model_call.ts";

/**
 * How agents reach the run's tool desk: the actor that decides every tool call by policy,
 * writes it to the ledger, calls the tools of MCP servers, and on a replay answers from the
 * recording. One definition for the agents that ask and the desk that answers.
 */

const Task = {
  runId: z.string().nullable().default(null),
  taskId: z.string().min(1),
  role: z.string().min(1),
};

/** A task begins to use tools: the desk starts its MCP servers on the task's workspace. */
export const OpenTools = z.strictObject({
  type: z.literal("open"),
  ...Task,
  /** The scratch copy the task works in (an MCP entry's `${workspace}` names it). */
  workspace: z.string().min(1),
});

/** May this call be made? The desk decides, and answers an MCP call or a recorded one itself. */
export const CallTool = z.strictObject({
  type: z.literal("call"),
  ...Task,
  step: z.number().int().min(0),
  call: ToolCall,
});

/** What a built-in tool the agent ran came to, for the ledger. */
export const ToolDone = z.strictObject({
  type: z.literal("done"),
  ...Task,
  step: z.number().int().min(0),
  call: ToolCall,
  ok: z.boolean(),
  result: z.string(),
  durationMs: z.number().min(0),
});

/** The task is over: its MCP servers stop. */
export const CloseTools = z.strictObject({ type: z.literal("close"), ...Task });

/** Everything the desk is asked. */
export const ToolDeskMessage = z.discriminatedUnion("type", [
  OpenTools,
  CallTool,
  ToolDone,
  CloseTools,
]);
export type ToolDeskMessage = z.input<typeof ToolDeskMessage>;

/** The desk's answer to `open`: the MCP tools offered (named `SERVER__TOOL`), or why none. */
export interface OpenedTools {
  tools: ToolSpec[];
  /** MCP servers that could not be started, and why (the task goes on without them). */
  problems: string[];
}

/** The desk's answer to `call`. */
export interface CallDecision {
  effect: "allow" | "deny" | "require_approval";
  reason: string;
  /** Given by the desk (an MCP tool's result, or the recorded one on a replay): not run again. */
  result?: { ok: boolean; text: string };
}

/** One tool call as the ledger keeps it. */
export const ToolCallRecord = z.object({
  runId: z.string().nullable(),
  taskId: z.string(),
  role: z.string(),
  /** The model's turn the call came in (0: the agent's own final check). */
  step: z.number().int().min(0),
  callId: z.string(),
  /** `builtin`, or the MCP server's name. */
  server: z.string(),
  tool: z.string(),
  arguments: z.record(z.string(), z.unknown()),
  /** The policy's effect; a call not allowed was not made. */
  effect: z.string(),
  reason: z.string(),
  ok: z.boolean(),
  /** What the model was given back, bounded. */
  result: z.string(),
  durationMs: z.number().min(0),
  /** Answered from this earlier run's record, not by running the tool. */
  replayedFrom: z.string().optional(),
});
/** A tool call's record. */
export type ToolCallRecord = z.infer<typeof ToolCallRecord>;

/** An MCP tool's name as offered to the model: server and tool, within the 64 characters allowed. */
export function mcpToolName(server: string, tool: string): string {
  return `${server}__${tool}`.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64);
}
