/**
 * A fake model server on 127.0.0.1 that speaks two real wire protocols: OpenAI's
 * `POST /v1/chat/completions` (Server-Sent Events of `data: {chunk}` lines, a last chunk with
 * `usage`, `data: [DONE]`) and Anthropic's `POST /v1/messages` (`message_start` with input
 * tokens, `content_block_delta` text, `message_delta` with output tokens, `message_stop`),
 * errors as each sends them. Each request takes the next scripted behaviour (the last repeats).
 */
export type Behaviour =
  | {
    kind: "answer";
    text: string;
    model?: string;
    usage?: { input: number; output: number };
    /** Wait this long before answering (a slow provider). */
    delayMs?: number;
    /** Send no token usage (as some local servers do). */
    noUsage?: boolean;
    /** Send the start of the answer, then nothing more until the client gives up. */
    stall?: boolean;
    /** Tool calls after the text, streamed as each protocol streams them (arguments in pieces). */
    toolCalls?: { id: string; name: string; arguments: Record<string, unknown> }[];
  }
  | { kind: "status"; status: number; headers?: Record<string, string>; message?: string }
  | { kind: "garbage" }
  | { kind: "hang" };

export interface FakeOpenAI extends AsyncDisposable {
  /** OpenAI's base URL (with /v1). */
  url: string;
  /** Anthropic's base URL (the SDK adds /v1/messages). */
  anthropicUrl: string;
  /** The bodies and authorization headers received, in order. */
  requests: { body: Record<string, unknown>; authorization: string | null }[];
  script: Behaviour[];
  close(): Promise<void>;
}

export async function fakeOpenAI(script: Behaviour[]): Promise<FakeOpenAI> {
  const requests: FakeOpenAI["requests"] = [];
  const hanging = new Set<PromiseWithResolvers<void>>();
  const state = { script };
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => ready.resolve(port),
  }, async (req) => {
    const url = new URL(req.url);
    const anthropic = url.pathname === "/v1/messages";
    if (req.method !== "POST" || (!anthropic && url.pathname !== "/v1/chat/completions")) {
      return Response.json({ error: { message: "not found", type: "invalid_request_error" } }, {
        status: 404,
      });
    }
    const body = await req.json();
    // A bearer token, or Anthropic's x-api-key header (its API takes either).
    const apiKey = req.headers.get("x-api-key");
    requests.push({
      body,
      authorization: req.headers.get("authorization") ?? (apiKey ? `Bearer ${apiKey}` : null),
    });
    const b = state.script.length > 1 ? state.script.shift()! : state.script[0];
    if (b.kind === "status" && anthropic) {
      return Response.json({
        type: "error",
        error: {
          type: b.status === 429
            ? "rate_limit_error"
            : b.status === 529
            ? "overloaded_error"
            : "api_error",
          message: b.message ?? `status ${b.status}`,
        },
      }, { status: b.status, headers: b.headers });
    }
    if (b.kind === "status") {
      return Response.json({
        error: {
          message: b.message ?? `status ${b.status}`,
          type: b.status === 429 ? "rate_limit_error" : "server_error",
          code: null,
        },
      }, { status: b.status, headers: b.headers });
    }
    if (b.kind === "hang") {
      const wait = Promise.withResolvers<void>();
      hanging.add(wait);
      req.signal.addEventListener("abort", () => wait.resolve());
      await wait.promise;
      hanging.delete(wait);
      return new Response("", { status: 504 });
    }
    if (b.kind === "garbage") {
      return new Response("data: {this is not json\n\n", {
        headers: { "content-type": "text/event-stream" },
      });
    }
    const model = b.model ?? String(body.model);
    if (b.delayMs) await new Promise((r) => setTimeout(r, b.delayMs));
    if (anthropic) return anthropicStream(b, model, req.signal);
    const id = `chatcmpl-${crypto.randomUUID().slice(0, 8)}`;
    const created = Math.floor(Date.now() / 1000);
    const chunk = (delta: Record<string, unknown>, finish: string | null, usage?: unknown) =>
      `data: ${
        JSON.stringify({
          id,
          object: "chat.completion.chunk",
          created,
          model,
          choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }],
          ...(usage ? { usage } : {}),
        })
      }\n\n`;
    const pieces = b.text.match(/.{1,16}/gs) ?? [""];
    const usage = b.usage ?? { input: 42, output: Math.max(1, pieces.length) };
    const calls = b.toolCalls ?? [];
    const events = [
      chunk({ role: "assistant", content: "" }, null),
      ...(b.text ? pieces.map((p) => chunk({ content: p }, null)) : []),
      ...calls.flatMap((c, index) => [
        chunk({
          tool_calls: [{
            index,
            id: c.id,
            type: "function",
            function: { name: c.name, arguments: "" },
          }],
        }, null),
        ...(JSON.stringify(c.arguments).match(/.{1,8}/gs) ?? []).map((a) =>
          chunk({ tool_calls: [{ index, function: { arguments: a } }] }, null)
        ),
      ]),
      chunk({}, calls.length ? "tool_calls" : "stop"),
      ...(body.stream_options?.include_usage && !b.noUsage
        ? [chunk({}, null, {
          prompt_tokens: usage.input,
          completion_tokens: usage.output,
          total_tokens: usage.input + usage.output,
        })]
        : []),
      "data: [DONE]\n\n",
    ];
    return sse(events, b.stall ? 2 : undefined, req.signal);
  });
  const port = await ready.promise;
  const close = async () => {
    for (const h of hanging) h.resolve();
    await server.shutdown();
  };
  return {
    url: `http://127.0.0.1:${port}/v1`,
    anthropicUrl: `http://127.0.0.1:${port}`,
    requests,
    get script() {
      return state.script;
    },
    set script(s: Behaviour[]) {
      state.script = s;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** An answer as Anthropic's Messages API streams it. */
function anthropicStream(
  b: Extract<Behaviour, { kind: "answer" }>,
  model: string,
  signal: AbortSignal,
): Response {
  const event = (type: string, data: Record<string, unknown>) =>
    `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
  const pieces = b.text.match(/.{1,16}/gs) ?? [""];
  const usage = b.usage ?? { input: 42, output: Math.max(1, pieces.length) };
  const events = [
    event("message_start", {
      message: {
        id: `msg_${crypto.randomUUID().slice(0, 8)}`,
        type: "message",
        role: "assistant",
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        ...(b.noUsage ? {} : { usage: { input_tokens: usage.input, output_tokens: 1 } }),
      },
    }),
    event("content_block_start", { index: 0, content_block: { type: "text", text: "" } }),
    ...pieces.map((text) =>
      event("content_block_delta", { index: 0, delta: { type: "text_delta", text } })
    ),
    event("content_block_stop", { index: 0 }),
    ...(b.toolCalls ?? []).flatMap((c, i) => [
      event("content_block_start", {
        index: i + 1,
        content_block: { type: "tool_use", id: c.id, name: c.name, input: {} },
      }),
      ...(JSON.stringify(c.arguments).match(/.{1,8}/gs) ?? []).map((partial_json) =>
        event("content_block_delta", {
          index: i + 1,
          delta: { type: "input_json_delta", partial_json },
        })
      ),
      event("content_block_stop", { index: i + 1 }),
    ]),
    event("message_delta", {
      delta: { stop_reason: b.toolCalls?.length ? "tool_use" : "end_turn", stop_sequence: null },
      ...(b.noUsage ? {} : { usage: { output_tokens: usage.output } }),
    }),
    event("message_stop", {}),
  ];
  return sse(events, b.stall ? 3 : undefined, signal);
}

/**
 * Server-sent events: all of them, or (a stall) the first `stallAfter` and then nothing until
 * the client goes away.
 */
function sse(events: string[], stallAfter: number | undefined, signal: AbortSignal): Response {
  return new Response(
    new ReadableStream({
      async start(c) {
        const sent = stallAfter === undefined ? events : events.slice(0, stallAfter);
        for (const e of sent) c.enqueue(new TextEncoder().encode(e));
        if (stallAfter !== undefined) {
          await new Promise<void>((resolve) => {
            if (signal.aborted) resolve();
            signal.addEventListener("abort", () => resolve());
          });
        }
        c.close();
      },
    }),
    { headers: { "content-type": "text/event-stream" } },
  );
}
