import { z } from 'zod';
import { documented } from './variables.ts';

/** Observability: Prometheus metrics and OpenTelemetry trace export. */

export const observabilityVariables = {
  KASSA_METRICS_TOKEN: documented(
    z.string().min(16, 'KASSA_METRICS_TOKEN must be at least 16 characters').optional(),
    {
      description:
        'serve Prometheus metrics at `/metrics` on the main port to requests with `Authorization: Bearer <this token>` (16+ characters) ([docs/operations.md](docs/operations.md#monitoring))',
    },
  ),
  KASSA_METRICS_PORT: documented(z.coerce.number().int().min(0).max(65535).optional(), {
    description:
      'serve `/metrics` on a listener of its own at this port (bound to `HOST`; asks for `KASSA_METRICS_TOKEN` when that is set)',
  }),
  // OpenTelemetry's own names (https://opentelemetry.io/docs/specs/otel/protocol/exporter/), so a platform's
  // usual settings apply unchanged.
  OTEL_EXPORTER_OTLP_ENDPOINT: documented(z.url().optional(), {
    description:
      'export trace spans (incoming requests, webhook, callback and processor calls, worker runs) over OTLP/HTTP JSON to this collector (`/v1/traces` is appended); unset, no spans are recorded ([docs/operations.md](docs/operations.md#tracing))',
    defaultText: '— (off)',
  }),
  OTEL_SERVICE_NAME: documented(z.string().min(1).default('kassa'), {
    description: 'the `service.name` of exported spans',
  }),
};
