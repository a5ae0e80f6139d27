import type { z } from "zod";
import type { ChatAnswer, ChatMessage, ChatRequest, ToolCall, ToolSpec } from "./model_call.ts";

type Request = z.output<typeof ChatRequest>;

/** A tool call written in text: a fenced block `tool` holding `{"tool": …, "arguments": {…}}`. */
const BLOCK = /```tool[ \t]*\n([\s\S]*?)```/g;

/** How a model without native tool calling is told about tools. */
export function describeTools(tools: ToolSpec[]): string {
  return [
    "You may call tools. To call one, write a fenced block of type tool holding one JSON object,",
    'for example:\n```tool\n{"tool": "read_file", "arguments": {"path": "src/main.ts"}}\n```',
    "Write one or more such blocks and stop; the results come back in the next message.",
    "Answer without a tool block when you are done.",
    "Tools (name, what it does, its arguments as JSON Schema):",
    ...tools.map((t) => `- ${t.name}: ${t.description}\n  ${JSON.stringify(t.parameters)}`),
  ].join("\n");
}

/** A message as plain text: tool calls written as blocks, results as user messages. */
function asText(m: ChatMessage): ChatMessage {
  if (m.role === "tool") {
    return { role: "user", content: `Result of tool call ${m.toolCallId ?? ""}:\n${m.content}` };
  }
  if (m.role === "assistant" && m.toolCalls?.length) {
    const blocks = m.toolCalls.map((c) =>
      "```tool\n" + JSON.stringify({ tool: c.name, arguments: c.arguments }) + "\n```"
    );
    return { role: "assistant", content: [m.content, ...blocks].filter(Boolean).join("\n") };
  }
  return { role: m.role, content: m.content };
}

/**
 * The request as a model without native tool calling gets it: the tools described in the
 * system message, earlier calls and results as text, no `tools` field.
 */
export function textToolRequest(request: Request): Request {
  const messages = request.messages.map(asText);
  const guide = describeTools(request.tools);
  const system = messages.findIndex((m) => m.role === "system");
  if (system >= 0) {
    messages[system] = { role: "system", content: `${messages[system].content}\n\n${guide}` };
  } else messages.unshift({ role: "system", content: guide });
  return { ...request, messages, tools: [] };
}

/**
 * The tool calls written in an answer's text, given ids of their place (`text-N`); blocks that
 * are not a JSON object naming a tool are left as text, for the model to be told.
 */
export function textToolAnswer(answer: ChatAnswer, tools: ToolSpec[]): ChatAnswer {
  const names = new Set(tools.map((t) => t.name));
  const calls: ToolCall[] = [];
  for (const m of answer.text.matchAll(BLOCK)) {
    let value: unknown;
    try {
      value = JSON.parse(m[1]);
    } catch {
      continue;
    }
    const v = value as { tool?: unknown; name?: unknown; arguments?: unknown };
    const name = typeof v?.tool === "string" ? v.tool : typeof v?.name === "string" ? v.name : "";
    if (!names.has(name)) continue;
    const args = v.arguments && typeof v.arguments === "object" && !Array.isArray(v.arguments)
      ? v.arguments as Record<string, unknown>
      : {};
    calls.push({ id: `text-${calls.length + 1}`, name, arguments: args });
  }
  return calls.length ? { ...answer, toolCalls: calls } : answer;
}
