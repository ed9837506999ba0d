import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { CommandError } from '../errors.ts';
import { followEventStream, parseEventTypes, type StreamedEvent } from '../event-stream-client.ts';
import { connectGateway } from '../gateway-client.ts';
import { print } from '../output.ts';
import type { CommandInput } from '../spec.ts';
import { untilInterrupted } from './interrupt.ts';

/**
 * `kassa listen --forward-to URL`: follows the merchant's event stream (GET /v1/events/stream) and POSTs each
 * event to a local URL as Kassa's webhooks would be — the same body, signed per Standard Webhooks with a secret
 * printed at start (or --secret) — printing every attempt. For developing a webhook receiver without a public
 * URL; no retries: the line says what the receiver answered.
 */

const FORWARD_TIMEOUT_MS = 15_000;

export async function listen(input: CommandInput): Promise<void> {
  await untilInterrupted((signal) => runListen(input, signal));
}

export function parseForwardUrl(value: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new CommandError(
      `--forward-to ${JSON.stringify(value)} is not a URL (e.g. http://localhost:4000/webhooks)`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CommandError(`--forward-to must be an http:// or https:// URL, not ${value}`);
  }
  return url;
}

function parseSecret(value: string | boolean | undefined): string {
  if (typeof value !== 'string') return `whsec_${randomBytes(32).toString('base64')}`;
  // Standard Webhooks: 24–64 random bytes, base64, after the prefix.
  const bytes = /^whsec_[A-Za-z0-9+/]+={0,2}$/.test(value) ? Buffer.from(value.slice(6), 'base64').length : 0;
  if (bytes < 24 || bytes > 64) {
    throw new CommandError('--secret must be a Standard Webhooks secret: whsec_ then 24–64 bytes in base64');
  }
  return value;
}

/**
 * The body Kassa's webhook deliveries carry (docs/webhooks.md), built from the streamed event object: the
 * event object without `pending_webhooks`, plus `timestamp` (= `created_at`) right after `created_at`.
 */
export function webhookBody(event: StreamedEvent['event']): string {
  const body: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(event)) {
    if (key === 'pending_webhooks') continue;
    body[key] = value;
    if (key === 'created_at') body.timestamp = value;
  }
  return JSON.stringify(body);
}

export async function runListen(input: CommandInput, signal: AbortSignal): Promise<void> {
  const target = parseForwardUrl(String(input.options['forward-to']));
  const secret = parseSecret(input.options.secret);
  const types = parseEventTypes(input.options.events);
  const gateway = connectGateway(input.options);
  const signer = new Webhook(secret);
  await followEventStream(
    gateway,
    { types, signal },
    {
      onReady: (position) =>
        print(
          `Ready! Forwarding ${types ? types.join(', ') : 'all'} events from ${gateway.baseUrl} to ${target.href} ` +
            `(position ${position}).\nYour webhook signing secret is ${secret} (^C to quit)`,
        ),
      onDisconnect: (reason, retryMs) =>
        console.error(`kassa: lost the event stream (${reason}); reconnecting in ${retryMs / 1000} s`),
      onEvent: async ({ event }) => {
        const body = webhookBody(event);
        const now = new Date();
        const headers = {
          'content-type': 'application/json',
          'user-agent': 'kassa-listen',
          'webhook-id': event.id,
          'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
          'webhook-signature': signer.sign(event.id, now, body),
        };
        const started = performance.now();
        let outcome: string;
        try {
          const response = await fetch(target, {
            method: 'POST',
            headers,
            body,
            signal: AbortSignal.any([signal, AbortSignal.timeout(FORWARD_TIMEOUT_MS)]),
          });
          await response.arrayBuffer().catch(() => undefined);
          outcome = `[${response.status}]`;
        } catch (error) {
          if (signal.aborted) return;
          const cause = (error as { cause?: { code?: string } }).cause;
          outcome = `[failed: ${cause?.code ?? (error as Error).name}]`;
        }
        const latency = Math.round(performance.now() - started);
        print(
          `${now.toISOString()}  --> ${event.type} [${event.id}]  <-- ${outcome} POST ${target.href} (${latency} ms)`,
        );
      },
    },
  );
}
