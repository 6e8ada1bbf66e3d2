import { context as otelContext, isSpanContextValid, trace, type Context, type SpanContext } from '@opentelemetry/api';

/**
 * W3C `traceparent` read and written directly (https://www.w3.org/TR/trace-context/), so trace
 * context crosses the HTTP API and the agent protocol whether or not the process registered a
 * propagator.
 */

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The context whose parent is the span a `traceparent` names; the active one when it names none. */
export function contextFromTraceparent(traceparent: string | undefined, base: Context = otelContext.active()): Context {
  const match = traceparent === undefined ? null : TRACEPARENT.exec(traceparent);
  if (!match || match[1] === 'ff') return base;
  const spanContext: SpanContext = {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: parseInt(match[4]!, 16),
    isRemote: true,
  };
  return isSpanContextValid(spanContext) ? trace.setSpanContext(base, spanContext) : base;
}

/** The `traceparent` of a span context (version 00). */
export function traceparentOf(spanContext: SpanContext): string | undefined {
  if (!isSpanContextValid(spanContext)) return undefined;
  return `00-${spanContext.traceId}-${spanContext.spanId}-${(spanContext.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}
