import { context } from "@opentelemetry/api";
import type { Ledger } from "../../ledger/mod.ts";
import type { PolicyEngine } from "../../policies/mod.ts";
import { type ActorSpecInput, defineActor } from "../../runtime/mod.ts";
import { McpServers } from "../agents/kit/mcp_servers.ts";
import { bounded } from "../agents/kit/workspace_tools.ts";
import type { McpServerConfig } from "../llm/llm_config.ts";
import { ToolCalled } from "../llm/llm_events.ts";
import { toolSpan } from "../tasks/run_trace.ts";
import {
  type CallDecision,
  mcpToolName,
  type OpenedTools,
  type ToolCallRecord,
  ToolDeskMessage,
} from "../llm/tool_desk_protocol.ts";

/** What a run's tool desk works with. */
export interface ToolDeskOptions {
  ledger: Ledger;
  runId: string;
  policy: PolicyEngine;
  mcp: McpServerConfig[];
  /**
   * On `--replay-models`: the recorded run's tool calls, answered from instead of run. With
   * `agentsReplay` (`replay --verify`) only MCP calls are: the agents' own effect logs answer
   * what their test runs got.
   */
  replay?: { from: string; calls: ToolCallRecord[]; agentsReplay?: boolean };
  onNews?(text: string): void;
}

/**
 * The run's tool desk: an actor on the run's own thread (where its policy and ledger are) that
 * agents in their workers ask before each tool call. It decides the call as `tool.call` on
 * `builtin/TOOL` or `mcp/SERVER/TOOL` with its arguments (a `policy_decision` event), calls MCP
 * tools itself, and writes every call as a `tool_call` event. On a replay, the tests' and MCP
 * tools' results come from the recorded run, so that nothing outside runs again; the built-in
 * tools that read or edit the scratch copy run again, leaving the same files.
 */
export function toolDeskSpec(id: string, o: ToolDeskOptions): ActorSpecInput {
  const servers = new Map<string, McpServers>();
  const queues = new Map<string, ToolCallRecord[]>();
  for (const c of o.replay?.calls ?? []) {
    const key = `${c.taskId}/${c.role}`;
    queues.set(key, [...queues.get(key) ?? [], c]);
  }
  /** Decisions waiting for the agent's report of the built-in call they allowed. */
  const pending = new Map<string, { reason: string }>();
  // Asked inside the calling agent's trace context: the call's span goes under it.
  const record = (payload: ToolCallRecord) => {
    const [parent, end] = [context.active(), Date.now()];
    return o.ledger.record(ToolCalled, { runId: o.runId, actor: id, payload }).then(
      ({ seq }) => toolSpan(payload, seq, parent, end),
      (err) => o.onNews?.(`could not record a tool call: ${err.message}`),
    );
  };

  const behaviour = defineActor({
    messages: ToolDeskMessage,
    async receive(input) {
      const m = ToolDeskMessage.parse(input);
      const key = `${m.taskId}/${m.role}`;
      switch (m.type) {
        case "open": {
          await servers.get(key)?.close();
          const s = await McpServers.open(o.replay ? [] : o.mcp, m.workspace);
          servers.set(key, s);
          for (const p of s.problems) o.onNews?.(p);
          // A replay offers the recorded run's MCP tools by name; their results are recorded.
          const tools = o.replay ? replayedMcpTools(queues.get(key) ?? []) : s.specs();
          return { tools, problems: s.problems } satisfies OpenedTools;
        }
        case "close":
          await servers.get(key)?.close();
          servers.delete(key);
          return null;
        case "done": {
          const d = pending.get(`${key}/${m.step}/${m.call.id}`);
          pending.delete(`${key}/${m.step}/${m.call.id}`);
          await record({
            runId: m.runId,
            taskId: m.taskId,
            role: m.role,
            step: m.step,
            callId: m.call.id,
            server: "builtin",
            tool: m.call.name,
            arguments: m.call.arguments,
            effect: "allow",
            reason: d?.reason ?? "",
            ok: m.ok,
            result: bounded(m.result),
            durationMs: m.durationMs,
          });
          return null;
        }
        case "call": {
          const started = performance.now();
          const mcp = servers.get(key)?.find(m.call.name) ?? replayedMcp(o, key, m.call.name);
          const resource = mcp ? `mcp/${mcp.server}/${mcp.tool}` : `builtin/${m.call.name}`;
          const d = o.policy.decide({
            action: "tool.call",
            actor: m.role,
            resource,
            arguments: m.call.arguments,
            risk: "medium",
          });
          const recorded = queues.get(key)?.shift();
          const base = {
            runId: m.runId,
            taskId: m.taskId,
            role: m.role,
            step: m.step,
            callId: m.call.id,
            server: mcp?.server ?? "builtin",
            tool: mcp?.tool ?? m.call.name,
            arguments: m.call.arguments,
            effect: d.effect,
          };
          if (d.effect !== "allow") {
            // Approval is not waited for in the middle of a model's turn: the model is told.
            const reason = d.effect === "require_approval"
              ? `${d.reason} (a tool call is not held for approval; allow it in a policy)`
              : d.reason;
            await record({ ...base, reason, ok: false, result: "", durationMs: 0 });
            return { effect: d.effect, reason } satisfies CallDecision;
          }
          // Tests and MCP tools reach outside the copy: their recorded results stand in (and
          // what the tests said last, which a replay that ran none cannot know).
          const tests = ["run_tests", "last_failure"].includes(m.call.name) &&
            !o.replay?.agentsReplay;
          const answered = o.replay && recorded && recorded.tool === base.tool && (mcp || tests);
          if (answered) {
            await record({
              ...base,
              reason: d.reason,
              ok: recorded.ok,
              result: recorded.result,
              durationMs: 0,
              replayedFrom: o.replay!.from,
            });
            return {
              effect: "allow",
              reason: d.reason,
              result: { ok: recorded.ok, text: recorded.result },
            } satisfies CallDecision;
          }
          if (mcp) {
            const r = await servers.get(key)!.call(m.call.name, m.call.arguments);
            await record({
              ...base,
              reason: d.reason,
              ok: r.ok,
              result: r.text,
              durationMs: Math.round(performance.now() - started),
            });
            return { effect: "allow", reason: d.reason, result: r } satisfies CallDecision;
          }
          pending.set(`${key}/${m.step}/${m.call.id}`, { reason: d.reason });
          return { effect: "allow", reason: d.reason } satisfies CallDecision;
        }
      }
    },
    async terminate() {
      await Promise.all([...servers.values()].map((s) => s.close()));
    },
  });
  return { id, behaviour, isolation: "inline", capabilities: ["tool.desk"] };
}

/** On a replay, which recorded MCP server and tool a name was. */
function replayedMcp(o: ToolDeskOptions, key: string, name: string) {
  if (!o.replay) return undefined;
  const c = o.replay.calls.find((c) =>
    `${c.taskId}/${c.role}` === key && c.server !== "builtin" &&
    mcpToolName(c.server, c.tool) === name
  );
  return c && { server: c.server, tool: c.tool };
}

/** The MCP tools a recorded task called, offered again by name on its replay. */
function replayedMcpTools(calls: ToolCallRecord[]) {
  const seen = new Map<string, ToolCallRecord>();
  for (const c of calls) if (c.server !== "builtin") seen.set(`${c.server}/${c.tool}`, c);
  return [...seen.values()].map((c) => ({
    name: mcpToolName(c.server, c.tool),
    description: `${c.tool} (MCP server ${c.server}, answered from the recording)`,
    parameters: { type: "object" },
  }));
}
