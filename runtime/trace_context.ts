import {
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  trace,
  type Tracer,
} from "@opentelemetry/api";

/**
 * Trace context carried with messages, so that one run is one trace across its workers and
 * processes. Deno exports what `@opentelemetry/api` records when `OTEL_DENO=true` (its own
 * OTLP exporter, in every worker and child process); otherwise the API is a no-op and none of
 * this costs more than a boolean test.
 */

/** troupe's tracer (`troupe`). */
export const tracer: Tracer = trace.getTracer("troupe");

/**
 * Whether spans are recorded in this thread: Deno registers its tracer provider before any
 * module runs. The probe span is never ended, so it is never exported.
 */
export const tracing: boolean = tracer.startSpan("troupe.probe").isRecording();

/** The active span's W3C `traceparent`, to send with a message; none when nothing is traced. */
export function captureTrace(): string | undefined {
  if (!tracing) return undefined;
  // A context received with a message holds a remote span, not recording here: passed on too.
  const active = trace.getActiveSpan();
  if (!active || !isSpanContextValid(active.spanContext())) return undefined;
  const carrier: { traceparent?: string } = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent;
}

/**
 * Runs `fn` with the context of a message's `traceparent` active, or with none when it has none:
 * a message is handled in its sender's context, never in whatever context the loop that
 * delivers it happened to start in (a worker spawned during one run serves later ones).
 */
export function inTrace<T>(traceparent: string | undefined, fn: () => T): T {
  if (!tracing) return fn();
  if (!traceparent) return context.with(ROOT_CONTEXT, fn);
  return context.with(propagation.extract(ROOT_CONTEXT, { traceparent }), fn);
}
