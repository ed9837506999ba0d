import { AsyncLocalStorage } from 'node:async_hooks';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Attributes } from '@opentelemetry/api';
import { pooledRandomHex } from '../lib/random.ts';
import type { SpanKindName, StartedSpan, Tracer } from './tracing.ts';

/**
 * W3C Trace Context (https://www.w3.org/TR/trace-context/): a request's `traceparent` is accepted when it is
 * well formed (a new trace starts otherwise), its trace id names the request in every log line written
 * while the request is handled, and outgoing requests made in its course — callbacks, processor calls,
 * proxied resources — carry it on (src/egress/egress-client.ts reads `currentTraceparent()`). Work done later
 * for a request keeps its trace through the database: every event stores the `traceparent` current when it
 * was emitted, and the webhooks and callback notifications sent for it run in that trace (`continueTrace`).
 * Background work that no request caused (a worker's periodic run) starts a trace of its own.
 *
 * Without span export the span id Kassa sends is one it makes per request, so a tracing backend shows Kassa
 * as one hop between the caller and the merchant's server. With export on (src/metrics/tracing.ts) the ids
 * are those of real spans: the request's server span, and a client span per outgoing request.
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
  /** The span exporter of the services doing the work, when export is on: outgoing requests record spans. */
  tracer?: Tracer | undefined;
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
  return openSpan(header, undefined, 'request', 'server').context;
}

/**
 * A new span under `parentTraceparent` (none or invalid: a new trace): a real one when `tracer` is given, else
 * just fresh ids. Work run in the returned context sends `traceparent` headers naming this span.
 */
export function openSpan(
  parentTraceparent: string | undefined,
  tracer: Tracer | undefined,
  name: string,
  kind: SpanKindName,
  attributes?: Attributes,
): { context: TraceContext; span: StartedSpan | undefined } {
  const parent = parseTraceparent(parentTraceparent);
  if (tracer) {
    const span = tracer.start(
      name,
      kind,
      parent && { traceId: parent.traceId, spanId: parent.parentSpanId, flags: parent.flags },
      attributes,
    );
    const { traceId, spanId, flags } = span;
    return { context: { traceId, spanId, parentSpanId: parent?.parentSpanId, flags, tracer }, span };
  }
  // Drawn from the pooled CSPRNG (lib/random.ts): two randomBytes calls per request were ≈ 2 % of a page.
  if (!parent) return { context: newRootContext(), span: undefined };
  return {
    context: {
      traceId: parent.traceId,
      spanId: pooledRandomHex(8),
      parentSpanId: parent.parentSpanId,
      flags: parent.flags,
    },
    span: undefined,
  };
}

/**
 * The context of work done later for the request (or worker run) whose `traceparent` was stored: a webhook
 * delivery, a callback notification. It continues that trace under the stored span, so the `traceparent` sent
 * names the request's span (and, with export on, the outgoing request's span is a child of the request's).
 * A row stored without one (written before traces were stored) continues the trace of the work running now.
 */
export function continueTrace(
  storedTraceparent: string | null,
  tracer = currentTrace()?.tracer,
): TraceContext {
  const stored = parseTraceparent(storedTraceparent ?? undefined);
  if (!stored) return currentTrace() ?? newRootContext();
  return {
    traceId: stored.traceId,
    spanId: stored.parentSpanId,
    parentSpanId: undefined,
    flags: stored.flags,
    tracer,
  };
}

/**
 * A new trace for work with no stored trace and none running (a row written before traces were stored, or by
 * SQL): once per delivery of such a row, in the drain's hot loop, so both ids come from one pooled draw.
 */
function newRootContext(): TraceContext {
  const ids = pooledRandomHex(24);
  return { traceId: ids.slice(0, 32), spanId: ids.slice(32), parentSpanId: undefined, flags: '00' };
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

/** The server span of a request, when spans are exported. */
function serverSpan(request: FastifyRequest, header: string | undefined, tracer: Tracer) {
  // The route template, never the URL: hosted-page paths carry signatures (as the request log line does).
  const route = request.routeOptions.url;
  return openSpan(header, tracer, route ? `${request.method} ${route}` : request.method, 'server', {
    'http.request.method': request.method,
    ...(route ? { 'http.route': route } : {}),
  });
}

/**
 * Gives every request its trace and runs the rest of its handling inside it. Register it before any other
 * hook, so authentication, handlers and their outgoing calls all see it.
 */
export function registerTraceContext(app: FastifyInstance, tracer?: Tracer): void {
  app.decorateRequest('trace', undefined as unknown as TraceContext);
  const spans = new WeakMap<object, StartedSpan>();
  app.addHook('onRequest', (request, reply, done) => {
    const header = request.headers.traceparent;
    const { context, span } = tracer
      ? serverSpan(request, typeof header === 'string' ? header : undefined, tracer)
      : // No exporter: only the ids are needed, so no span name or attributes (nor the route) are looked up.
        openSpan(typeof header === 'string' ? header : undefined, undefined, '', 'server');
    if (span) spans.set(request, span);
    request.trace = context;
    reply.header('traceresponse', formatTraceparent(context));
    storage.run(context, done);
  });
  if (!tracer) return;
  app.addHook('onResponse', (request, reply, done) => {
    const span = spans.get(request);
    spans.delete(request);
    if (span) {
      span.setAttributes({ 'http.response.status_code': reply.statusCode });
      span.end(reply.statusCode >= 500 ? { error: `HTTP ${reply.statusCode}` } : undefined);
    }
    done();
  });
  // A request whose client went away gets no onResponse.
  app.addHook('onRequestAbort', (request, done) => {
    spans.get(request)?.end({ error: 'the client closed the connection' });
    spans.delete(request);
    done();
  });
}
