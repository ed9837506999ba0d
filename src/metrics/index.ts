export { createMetrics, observeDatabase, BACKLOG_COUNT_CAP, type Metrics } from './metrics.ts';
export { instrumentConnector } from './instrumented-connector.ts';
export { registerMetrics, startMetricsListener, bearerMatches } from './metrics-http.ts';
export { createRequestLogController } from './request-log.ts';
export { createTracer, type Tracer, type StartedSpan } from './tracing.ts';
export {
  continueTrace,
  openSpan,
  currentTrace,
  currentTraceparent,
  formatTraceparent,
  parseTraceparent,
  registerTraceContext,
  runInTrace,
  startTrace,
  traceLogFields,
  type TraceContext,
} from './trace-context.ts';
