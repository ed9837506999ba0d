import { z } from 'zod';
import { booleanFlag, documented } from './variables.ts';

/**
 * The database: external or embedded, its pool, migrations at start, and what the retention worker prunes
 * (docs/operations.md, "Retention"; money is kept forever).
 */

export const databaseVariables = {
  DATABASE_URL: documented(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must be a postgres:// URL')
      .optional(),
    {
      description:
        '`postgres://…` to use an external PostgreSQL server; several Kassa processes can share it. Without it: the embedded server under `KASSA_DATA_DIR`',
    },
  ),
  KASSA_DATA_DIR: documented(z.string().default('./.kassa'), {
    description: 'embedded PostgreSQL data, and the development master key',
  }),
  KASSA_ALLOW_EMBEDDED_DB: documented(booleanFlag.default(false), {
    description:
      'production refuses to start without `DATABASE_URL` unless this is `true` (the embedded server is one process with its data on the local disk; it must then be installed: [docs/operations.md](docs/operations.md#installing-for-production))',
  }),
  KASSA_DB_POOL_MAX: documented(z.coerce.number().int().min(1).max(200).default(10), {
    description: 'database connections per process',
  }),
  KASSA_AUTO_MIGRATE: documented(booleanFlag.default(true), {
    description:
      'apply pending migrations at start; `false`: the app changes no schema, refuses to start while a migration is pending, and `kassa migrate` runs as its own job ([docs/operations.md](docs/operations.md#upgrades))',
  }),
  KASSA_RETENTION_EXPIRED_CHECKOUT_DAYS: documented(z.coerce.number().int().min(1).max(36_500).default(90), {
    description:
      'checkouts that expired with no payment attempt are deleted with their order, events and deliveries after this many days (money is kept forever: [docs/operations.md](docs/operations.md#retention))',
  }),
  KASSA_RETENTION_WEBHOOK_BODY_DAYS: documented(z.coerce.number().int().min(1).max(36_500).default(30), {
    description: 'response bodies of finished webhook deliveries are cleared after this many days',
  }),
  KASSA_RETENTION_WEBHOOK_HISTORY_DAYS: documented(z.coerce.number().int().min(1).max(36_500).default(365), {
    description:
      'finished webhook deliveries and their attempts are deleted after this many days (the events stay)',
  }),
  KASSA_RETENTION_IDEMPOTENCY_HOURS: documented(z.coerce.number().int().min(24).max(876_000).default(24), {
    description:
      'idempotency records are deleted after this many hours (a later retry with the same key is a new request)',
  }),
  KASSA_RETENTION_BATCH_SIZE: documented(z.coerce.number().int().min(10).max(10_000).default(500), {
    description: 'rows per pruning statement, so the pruner never holds locks on a hot table for long',
  }),
};
