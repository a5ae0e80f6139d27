import assert from "node:assert/strict";
import { gatewaySpec, LLM_CALLS_TOPIC, type LlmCallRecord } from "../../actors/llm/llm_gateway.ts";
import type { GatewayReply } from "../../actors/llm/llm_gateway.ts";
import { LlmConfig } from "../../actors/llm/llm_config.ts";
import type { ChatMessage, ToolSpec } from "../../actors/llm/model_call.ts";
import { fakeOpenAI } from "../fake_models.ts";
import { withSystem } from "../helpers.ts";

Deno.env.set("TROUPE_TOOLS_KEY", "sk-tools-test-0123456789abcdef");

const READ: ToolSpec = {
  name: "read_file",
  description: "Reads a file of the scratch copy, or a range of its lines.",
  parameters: {
    type: "object",
    properties: { path: { type: "string" }, from: { type: "integer" }, to: { type: "integer" } },
    required: ["path"],
  },
};
const CALL = {
  id: "call_1",
  name: "read_file",
  arguments: { path: "src/math.js", from: 1, to: 20 },
};

for (const kind of ["openai", "anthropic"] as const) {
  Deno.test(`${kind}: tools are offered and called through the provider's own tool calling, streamed, and the result goes back by the call's id`, async () => {
    await using fake = await fakeOpenAI([
      { kind: "answer", text: "Let me look.", toolCalls: [CALL] },
      { kind: "answer", text: "add subtracts; the fix is a + b." },
    ]);
    await withSystem(async (system) => {
      const records: LlmCallRecord[] = [];
      system.subscribe(LLM_CALLS_TOPIC, (m) => records.push(m as LlmCallRecord));
      const ref = await system.spawn(gatewaySpec(
        "llm",
        LlmConfig.parse({
          providers: [{
            name: "main",
            kind,
            baseUrl: kind === "openai" ? fake.url : fake.anthropicUrl,
            apiKeyEnv: "TROUPE_TOOLS_KEY",
            models: ["gpt-4o-mini"],
          }],
        }),
      ));
      const chat = (messages: ChatMessage[]) =>
        ref.ask<GatewayReply>({
          type: "chat",
          role: "coder",
          messages,
          tools: [READ],
          runId: "r1",
          taskId: "code",
        }, { timeoutMs: 30_000 });
      const messages: ChatMessage[] = [{ role: "user", content: "why does add fail?" }];
      const first = await chat(messages);
      assert.ok(first.ok, JSON.stringify(first));
      assert.deepEqual(first.toolCalls, [CALL]);
      assert.equal(first.text, "Let me look.");
      messages.push(
        { role: "assistant", content: first.text, toolCalls: first.toolCalls },
        { role: "tool", toolCallId: "call_1", content: "export const add = (a, b) => a - b;" },
      );
      const second = await chat(messages);
      assert.ok(second.ok && second.toolCalls === undefined && /a \+ b/.test(second.text));

      // On the wire, as each API has it.
      const [asked, answered] = fake.requests.map((r) => r.body as Record<string, unknown>);
      if (kind === "openai") {
        assert.deepEqual(asked.tools, [{
          type: "function",
          function: { name: READ.name, description: READ.description, parameters: READ.parameters },
        }]);
        const sent = answered.messages as Record<string, unknown>[];
        assert.deepEqual(sent[1].tool_calls, [{
          id: "call_1",
          type: "function",
          function: { name: "read_file", arguments: JSON.stringify(CALL.arguments) },
        }]);
        assert.deepEqual(sent[2], {
          role: "tool",
          tool_call_id: "call_1",
          content: "export const add = (a, b) => a - b;",
        });
      } else {
        assert.deepEqual(asked.tools, [{
          name: READ.name,
          description: READ.description,
          input_schema: READ.parameters,
        }]);
        const sent = answered.messages as { role: string; content: unknown }[];
        assert.deepEqual(sent[1].content, [
          { type: "text", text: "Let me look." },
          { type: "tool_use", id: "call_1", name: "read_file", input: CALL.arguments },
        ]);
        assert.deepEqual(sent[2], {
          role: "user",
          content: [{
            type: "tool_result",
            tool_use_id: "call_1",
            content: "export const add = (a, b) => a - b;",
          }],
        });
      }
      // The ledger's record holds the calls, so a replay can give them back.
      assert.deepEqual(records[0].toolCalls, [CALL]);
      assert.deepEqual(records[1].request[1].toolCalls, [CALL]);
    });
  });
}

Deno.test("a replayed run gets the recorded tool calls back, with no model asked", async () => {
  await withSystem(async (system) => {
    const ref = await system.spawn(gatewaySpec(
      "llm",
      LlmConfig.parse({
        providers: [{
          name: "main",
          kind: "openai",
          baseUrl: "http://127.0.0.1:9/v1",
          models: ["m"],
        }],
      }),
      {
        from: "run-before",
        answers: [{
          taskId: "code",
          role: "coder",
          text: "",
          model: "m",
          inputTokens: 10,
          outputTokens: 5,
          toolCalls: [CALL],
        }],
      },
    ));
    const reply = await ref.ask<GatewayReply>({
      type: "chat",
      role: "coder",
      messages: [{ role: "user", content: "why?" }],
      tools: [READ],
      runId: "r2",
      taskId: "code",
    }, { timeoutMs: 30_000 });
    assert.ok(reply.ok && reply.costUsd === 0, JSON.stringify(reply));
    assert.deepEqual(reply.toolCalls, [CALL]);
  });
});

Deno.test("tool call arguments that are not a JSON object are refused, naming the tool", async () => {
  const { toolArguments, LlmError } = await import("../../actors/llm/model_call.ts");
  assert.deepEqual(toolArguments("p", "read_file", ""), {});
  assert.throws(
    () => toolArguments("p", "read_file", '{"path": "a'),
    (e: unknown) =>
      e instanceof LlmError &&
      /p called read_file with arguments that are not a JSON object/.test(e.message),
  );
});
