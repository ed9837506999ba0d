import { z } from 'zod';
import { booleanFlag, documented } from './variables.ts';

/** The server process: where it listens, what it runs, how it logs and stops. */

export const serverVariables = {
  PORT: documented(z.coerce.number().int().min(0).max(65535).default(3000), { description: 'HTTP port' }),
  HOST: documented(z.string().optional(), {
    description: 'listen address (also of the `KASSA_METRICS_PORT` listener)',
    defaultText: '`127.0.0.1` (`0.0.0.0` in production)',
  }),
  KASSA_PUBLIC_URL: documented(z.url().optional(), {
    description:
      'the URL shoppers and merchants reach Kassa at (links, token issuer); production requires an `https://` URL, and with an `https://` URL every response carries `Strict-Transport-Security`',
    defaultText: '`http://localhost:$PORT` (required in production)',
  }),
  KASSA_LOG_LEVEL: documented(
    z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    {
      description:
        'pino log level; in development the per-request lines are at `debug` ([docs/operations.md](docs/operations.md#logs))',
    },
  ),
  KASSA_WORKERS: documented(booleanFlag.default(true), {
    description: 'run background workers (expiry, outbox, recovery) in this process',
  }),
  KASSA_DEMO: documented(booleanFlag.optional(), {
    description: 'serve the demo shop at `/demo` ([The demo shop](#the-demo-shop))',
    defaultText: '`true` (`false` in production)',
  }),
  KASSA_SHUTDOWN_GRACE_MS: documented(z.coerce.number().int().min(0).default(10_000), {
    description:
      'on SIGTERM / SIGINT the gateway stops taking connections, lets requests in flight finish for at most this long, stops its workers and then its embedded PostgreSQL; a signal that arrives while it is still starting stops it as soon as the start has finished; a second signal exits at once',
  }),
};

export type LogLevel = z.infer<typeof serverVariables.KASSA_LOG_LEVEL>;
