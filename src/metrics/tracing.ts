import type { Attributes, SpanKind } from '@opentelemetry/api';

/**
 * OpenTelemetry span export, on when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (docs/operations.md "Tracing").
 *
 * Kassa keeps its own trace context (src/metrics/trace-context.ts: an AsyncLocalStorage that also names log
 * lines and survives in the database for work done later), so the SDK is used without its context manager
 * or propagators: every span is started with an explicit parent — the caller's `traceparent`, the span of the
 * request that is running, or the `traceparent` stored with an event — and the ids of the span become the
 * ids Kassa sends on. That is why a span's trace id is always the one in the `traceparent` headers.
 *
 * The provider belongs to one set of services (not the global OpenTelemetry API), so several apps in one
 * process (tests) each export their own spans. The SDK is imported only when export is on: the CLI and a
 * process without it do not pay for loading it.
 */

export type SpanKindName = 'server' | 'client' | 'internal' | 'consumer';

/** Where a span hangs: the trace it belongs to and the span it is a child of. */
export type SpanParent = { traceId: string; spanId: string; flags: string };

export type StartedSpan = {
  traceId: string;
  spanId: string;
  /** `01` when sampled (exported), `00` otherwise: the flags the span's `traceparent` carries. */
  flags: string;
  setAttributes(attributes: Attributes): void;
  /** Ends the span; `error` marks it failed (a 5xx, a refused or failed outgoing request). */
  end(outcome?: { error?: string }): void;
};

export type Tracer = {
  start(
    name: string,
    kind: SpanKindName,
    parent: SpanParent | undefined,
    attributes?: Attributes,
  ): StartedSpan;
  /** Exports what is buffered now (tests; shutdown). */
  forceFlush(): Promise<void>;
  shutdown(): Promise<void>;
};

/** The OTLP/HTTP traces URL for a base endpoint, as the OpenTelemetry exporter specification builds it. */
export function tracesUrl(endpoint: string): string {
  return `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}

/** A tracer exporting to `endpoint`, or undefined when no endpoint is configured (tracing off). */
export async function createTracer(
  options: { endpoint: string; serviceName: string; version?: string } | undefined,
): Promise<Tracer | undefined> {
  if (!options) return undefined;
  const [{ ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace }, otlp, resources, sdk] =
    await Promise.all([
      import('@opentelemetry/api'),
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace'),
    ]);
  const { BatchSpanProcessor, ParentBasedSampler, AlwaysOnSampler, TracerProvider } = sdk;
  const kinds: Record<SpanKindName, SpanKind> = {
    server: SpanKind.SERVER,
    client: SpanKind.CLIENT,
    internal: SpanKind.INTERNAL,
    consumer: SpanKind.CONSUMER,
  };
  const provider = new TracerProvider({
    resource: resources.resourceFromAttributes({
      'service.name': options.serviceName,
      ...(options.version ? { 'service.version': options.version } : {}),
    }),
    // A caller's sampling decision is kept (its flags travel on unchanged); traces Kassa starts are sampled.
    sampler: new ParentBasedSampler({ root: new AlwaysOnSampler() }),
    spanProcessors: [
      new BatchSpanProcessor({ exporter: new otlp.OTLPTraceExporter({ url: tracesUrl(options.endpoint) }) }),
    ],
  });
  const tracer = provider.getTracer('kassa');
  return {
    start(name, kind, parent, attributes) {
      const context = parent
        ? trace.setSpanContext(ROOT_CONTEXT, {
            traceId: parent.traceId,
            spanId: parent.spanId,
            traceFlags: Number.parseInt(parent.flags, 16) & TraceFlags.SAMPLED,
            isRemote: true,
          })
        : ROOT_CONTEXT;
      const span = tracer.startSpan(
        name,
        { kind: kinds[kind], ...(attributes ? { attributes } : {}) },
        context,
      );
      const spanContext = span.spanContext();
      return {
        traceId: spanContext.traceId,
        spanId: spanContext.spanId,
        flags: (spanContext.traceFlags & TraceFlags.SAMPLED) === TraceFlags.SAMPLED ? '01' : '00',
        setAttributes: (more) => span.setAttributes(more),
        end(outcome) {
          if (outcome?.error !== undefined)
            span.setStatus({ code: SpanStatusCode.ERROR, message: outcome.error });
          span.end();
        },
      };
    },
    forceFlush: () => provider.forceFlush(),
    shutdown: () => provider.shutdown(),
  };
}
