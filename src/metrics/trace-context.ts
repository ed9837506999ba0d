import { AsyncLocalStorage } from 'node:async_hooks';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): a request's `traceparent` is accepted when it is
 * well formed (a new trace starts otherwise), its trace id names the request in every log line written
 * while the request is handled, and outgoing requests made in its course — callbacks, processor calls,
 * proxied resources — carry it on (src/egress/egress-client.ts reads `currentTraceparent()`). Kassa
 * records no spans: the span id it sends is one it makes per request, so a tracing backend shows Kassa as
 * one hop between the caller and the merchant's server.
 *
 * The context travels with the request's async work in an AsyncLocalStorage. It is process-wide because
 * async context is (like `console`); it holds nothing outside a request's own async scope, so it is no
 * shared state between tests or apps.
 */

export type TraceContext = {
  /** 32 lower-case hex digits, from the incoming `traceparent` or new. */
  traceId: string;
  /** This request's span id (16 hex): the parent id of what it sends on. */
  spanId: string;
  /** The caller's span id, when it sent one. */
  parentSpanId: string | undefined;
  /** Trace flags (2 hex; `01` = sampled), passed on unchanged. */
  flags: string;
};

const storage = new AsyncLocalStorage<TraceContext>();

// version "00": exactly four fields; a later version may append fields after a dash (the spec's rule for
// forward compatibility). Version ff, an all-zero trace id or an all-zero parent id are invalid.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-[^]*)?$/;

export function parseTraceparent(
  header: string | undefined,
): { traceId: string; parentSpanId: string; flags: string } | undefined {
  if (header === undefined) return undefined;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return undefined;
  const [, version, traceId, parentSpanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (/^0+$/.test(traceId!) || /^0+$/.test(parentSpanId!)) return undefined;
  return { traceId: traceId!, parentSpanId: parentSpanId!, flags: flags! };
}

/** The context of a request that sent `header` (or none, or an invalid one: a new trace). */
export function startTrace(header: string | undefined): TraceContext {
  const incoming = parseTraceparent(header);
  return {
    traceId: incoming?.traceId ?? randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    parentSpanId: incoming?.parentSpanId,
    flags: incoming?.flags ?? '00',
  };
}

export function formatTraceparent(context: TraceContext): string {
  return `00-${context.traceId}-${context.spanId}-${context.flags}`;
}

/** The trace of the work running now, if it runs for a request. */
export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}

/** The `traceparent` an outgoing request made now should carry, if it is made for a request. */
export function currentTraceparent(): string | undefined {
  const context = storage.getStore();
  return context ? formatTraceparent(context) : undefined;
}

/** Runs `work` in the given trace (tests, and work started for a request outside its hooks). */
export function runInTrace<T>(context: TraceContext, work: () => T): T {
  return storage.run(context, work);
}

/** Log fields of the current trace (pino's `mixin`): every line written for a request names its trace. */
export function traceLogFields(): { trace_id?: string } {
  const context = storage.getStore();
  return context ? { trace_id: context.traceId } : {};
}

declare module 'fastify' {
  interface FastifyRequest {
    trace: TraceContext;
  }
}

/**
 * Gives every request its trace and runs the rest of its handling inside it. Register it before any other
 * hook, so authentication, handlers and their outgoing calls all see it.
 */
export function registerTraceContext(app: FastifyInstance): void {
  app.decorateRequest('trace', undefined as unknown as TraceContext);
  app.addHook('onRequest', (request, reply, done) => {
    const header = request.headers.traceparent;
    const context = startTrace(typeof header === 'string' ? header : undefined);
    request.trace = context;
    reply.header('traceresponse', formatTraceparent(context));
    storage.run(context, done);
  });
}
