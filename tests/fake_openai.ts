/**
 * A fake OpenAI-compatible server on 127.0.0.1 that speaks the real wire protocol of
 * `POST /v1/chat/completions`: JSON bodies, Server-Sent Events with `data: {chunk}` lines, a
 * last chunk with `usage`, and `data: [DONE]`; errors as OpenAI sends them. Each request takes
 * the next scripted behaviour (the last one repeats).
 */
export type Behaviour =
  | { kind: "answer"; text: string; model?: string; usage?: { input: number; output: number } }
  | { kind: "status"; status: number; headers?: Record<string, string>; message?: string }
  | { kind: "garbage" }
  | { kind: "hang" };

export interface FakeOpenAI extends AsyncDisposable {
  url: string;
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
    if (req.method !== "POST" || url.pathname !== "/v1/chat/completions") {
      return Response.json({ error: { message: "not found", type: "invalid_request_error" } }, {
        status: 404,
      });
    }
    const body = await req.json();
    requests.push({ body, authorization: req.headers.get("authorization") });
    const b = state.script.length > 1 ? state.script.shift()! : state.script[0];
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
    const events = [
      chunk({ role: "assistant", content: "" }, null),
      ...pieces.map((p) => chunk({ content: p }, null)),
      chunk({}, "stop"),
      ...(body.stream_options?.include_usage
        ? [chunk({}, null, {
          prompt_tokens: usage.input,
          completion_tokens: usage.output,
          total_tokens: usage.input + usage.output,
        })]
        : []),
      "data: [DONE]\n\n",
    ];
    return new Response(
      new ReadableStream({
        start(c) {
          for (const e of events) c.enqueue(new TextEncoder().encode(e));
          c.close();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    );
  });
  const port = await ready.promise;
  const close = async () => {
    for (const h of hanging) h.resolve();
    await server.shutdown();
  };
  return {
    url: `http://127.0.0.1:${port}/v1`,
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
