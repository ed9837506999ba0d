export { createMetrics, observeDatabase, BACKLOG_COUNT_CAP, type Metrics } from './metrics.ts';
export { instrumentConnector } from './instrumented-connector.ts';
export { registerMetrics, startMetricsListener, bearerMatches } from './metrics-http.ts';
