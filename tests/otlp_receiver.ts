import protobuf from "protobufjs";

/**
 * An OTLP/HTTP receiver on 127.0.0.1, as a collector is one: it takes what Deno's OpenTelemetry
 * exporter sends to `/v1/traces` (`application/x-protobuf`) and decodes it with the official
 * OTLP definitions (tests/fixtures/opentelemetry-proto), so a test reads spans as any backend
 * would. Logs and metrics are accepted and counted, not kept.
 */

/** A span as received: ids in hex, attributes as plain values. */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: number;
  service: string;
  attributes: Record<string, unknown>;
  status: { code: number; message?: string };
  startNs: bigint;
  endNs: bigint;
}

export interface OtlpReceiver extends AsyncDisposable {
  /** What OTEL_EXPORTER_OTLP_ENDPOINT is set to. */
  endpoint: string;
  spans: ReceivedSpan[];
  /** Requests received, by path (`/v1/traces`, `/v1/logs`, `/v1/metrics`). */
  requests: Record<string, number>;
}

const PROTOS = new URL("./fixtures/opentelemetry-proto/", import.meta.url);

export async function otlpReceiver(): Promise<OtlpReceiver> {
  const root = new protobuf.Root();
  root.resolvePath = (_origin: string, target: string) => new URL(target, PROTOS).pathname;
  await root.load("opentelemetry/proto/collector/trace/v1/trace_service.proto");
  const Request = root.lookupType(
    "opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest",
  );
  const spans: ReceivedSpan[] = [];
  const requests: Record<string, number> = {};
  const ready = Promise.withResolvers<number>();
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen: ({ port }) => ready.resolve(port),
  }, async (req) => {
    const path = new URL(req.url).pathname;
    requests[path] = (requests[path] ?? 0) + 1;
    const body = new Uint8Array(await req.arrayBuffer());
    if (path === "/v1/traces") {
      const message = Request.toObject(Request.decode(body), { longs: String, bytes: Array });
      spans.push(...spansOf(message as Export));
    }
    return new Response(new Uint8Array(0), {
      headers: { "content-type": "application/x-protobuf" },
    });
  });
  const port = await ready.promise;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    spans,
    requests,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

interface AnyValue {
  stringValue?: string;
  boolValue?: boolean;
  intValue?: string;
  doubleValue?: number;
  arrayValue?: { values?: AnyValue[] };
}
interface KeyValue {
  key: string;
  value?: AnyValue;
}
interface Export {
  resourceSpans?: {
    resource?: { attributes?: KeyValue[] };
    scopeSpans?: {
      spans?: {
        traceId: number[];
        spanId: number[];
        parentSpanId?: number[];
        name: string;
        kind?: number;
        attributes?: KeyValue[];
        status?: { code?: number; message?: string };
        startTimeUnixNano: string;
        endTimeUnixNano: string;
      }[];
    }[];
  }[];
}

const hex = (bytes: number[] | undefined) =>
  (bytes ?? []).map((b) => b.toString(16).padStart(2, "0")).join("");

function valueOf(v: AnyValue | undefined): unknown {
  if (!v) return undefined;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(valueOf);
  return undefined;
}

function attributesOf(list: KeyValue[] | undefined): Record<string, unknown> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, valueOf(kv.value)]));
}

function spansOf(message: Export): ReceivedSpan[] {
  return (message.resourceSpans ?? []).flatMap((rs) => {
    const service = String(attributesOf(rs.resource?.attributes)["service.name"] ?? "");
    return (rs.scopeSpans ?? []).flatMap((ss) =>
      (ss.spans ?? []).map((s) => ({
        traceId: hex(s.traceId),
        spanId: hex(s.spanId),
        parentSpanId: hex(s.parentSpanId),
        name: s.name,
        kind: s.kind ?? 0,
        service,
        attributes: attributesOf(s.attributes),
        status: { code: s.status?.code ?? 0, message: s.status?.message },
        startNs: BigInt(s.startTimeUnixNano),
        endNs: BigInt(s.endTimeUnixNano),
      }))
    );
  });
}
