import { z } from 'zod';
import { DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS, parseRetrySchedule } from '../outbox/retry-schedule.ts';
import { ConfigError, documented } from './variables.ts';

/** What leaves Kassa for the merchant: webhooks, callbacks, and the egress allow-list they pass. */

export const deliveryVariables = {
  KASSA_EGRESS_ALLOW_LIST: documented(z.string().default(''), {
    description: 'hosts or CIDRs webhooks and callbacks may reach even when private (comma-separated)',
    defaultText: '—',
  }),
  KASSA_WEBHOOK_RETRY_SCHEDULE: documented(z.string().optional(), {
    description:
      'delays in seconds between webhook attempts (and merchant notification callbacks), comma-separated; the first attempt is immediate, so attempts = delays + 1 ([docs/webhooks.md](docs/webhooks.md))',
    defaultText: `\`${DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS.join(',')}\``,
  }),
  KASSA_WEBHOOK_LEASE_SECONDS: documented(z.coerce.number().min(1).max(3_600).default(60), {
    description:
      "how long a claimed webhook delivery stays reserved for its process; must outlast one attempt (28 s), and a crashed process's claims return after it",
  }),
  KASSA_CALLBACK_CONNECT_TIMEOUT_MS: documented(z.coerce.number().int().min(50).max(60_000).default(7_000), {
    description: 'merchant callbacks (ok / fail / open / notification / verify_order): connect timeout',
  }),
  KASSA_CALLBACK_RESPONSE_TIMEOUT_MS: documented(
    z.coerce.number().int().min(100).max(120_000).default(28_000),
    { description: 'merchant callbacks: deadline for the whole exchange' },
  ),
};

/** `KASSA_WEBHOOK_RETRY_SCHEDULE` → delays in seconds; unset: the outbox's default schedule. */
export function parseWebhookRetrySchedule(raw: string | undefined): number[] {
  if (raw === undefined) return [...DEFAULT_WEBHOOK_RETRY_SCHEDULE_SECONDS];
  try {
    return parseRetrySchedule(raw);
  } catch (error) {
    throw new ConfigError(
      `Invalid configuration:\n  KASSA_WEBHOOK_RETRY_SCHEDULE: ${(error as Error).message}`,
    );
  }
}
