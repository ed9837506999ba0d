import { z } from 'zod';
import type { SandboxFaults } from '../connectors/sandbox/sandbox.connector.ts';
import { ConfigError, documented, type Environment } from './variables.ts';

/** Processors: when recovery asks them again, and the sandbox acquirer's simulated faults. */

export const processorVariables = {
  KASSA_PAYMENT_RECOVERY_MS: documented(z.coerce.number().int().min(100).max(3_600_000).default(60_000), {
    description:
      'age after which the recovery worker settles a payment left `processing` (or a capture / refund left PENDING), and asks the processor about a payment it answered pending (at most once per this age); it runs every third of this, at most every 10 s',
  }),
  KASSA_PROCESSOR_TIMEOUT_MS: documented(z.coerce.number().int().min(1_000).max(120_000).default(30_000), {
    description:
      "deadline of one call to a payment processor (connect, request and the whole answer); with the callback timeouts it sets how long a payment request's Idempotency-Key stays in use after its process died ([docs/security.md](docs/security.md))",
  }),
  KASSA_SANDBOX_FAULTS: documented(z.string().optional(), {
    description:
      'test / development only (refused in production): JSON of simulated sandbox-acquirer faults, e.g. `{"timeoutMs":200,"timeoutEveryNth":3}` ([docs/reliability.md](docs/reliability.md))',
  }),
};

// Simulated acquirer faults (SandboxFaults) for fault tests and local experiments; refused in production.
const SandboxFaultsSchema = z.strictObject({
  latencyMs: z.number().int().min(0).max(120_000).optional(),
  responseDelayMs: z.number().int().min(0).max(120_000).optional(),
  failEveryNth: z.number().int().min(1).optional(),
  timeoutMs: z.number().int().min(0).max(120_000).optional(),
  timeoutEveryNth: z.number().int().min(1).optional(),
  duplicateNotifications: z.boolean().optional(),
  failRate: z.number().min(0).max(1).optional(),
  timeoutRate: z.number().min(0).max(1).optional(),
}) satisfies z.ZodType<SandboxFaults>;

/** `KASSA_SANDBOX_FAULTS` (JSON) → the faults; refused in production. */
export function parseSandboxFaults(
  raw: string | undefined,
  environment: Environment,
): SandboxFaults | undefined {
  if (raw === undefined) return undefined;
  if (environment === 'production') {
    throw new ConfigError('KASSA_SANDBOX_FAULTS simulates acquirer failures and is refused in production.');
  }
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new ConfigError('Invalid configuration:\n  KASSA_SANDBOX_FAULTS: not valid JSON');
  }
  const faults = SandboxFaultsSchema.safeParse(json);
  if (!faults.success) {
    const lines = faults.error.issues.map(
      (issue) => `  KASSA_SANDBOX_FAULTS.${issue.path.join('.')}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  return faults.data;
}
