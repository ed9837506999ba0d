import type { Database } from '../../db/client.ts';
import { mayDiscloseResponse } from '../../egress/egress-policy.ts';
import {
  EgressError,
  parseIpAddress,
  resolveWithSystemDns,
  type CompiledEgressPolicy,
  type EgressClient,
  type IPAddress,
} from '../../egress/index.ts';
import type { Metrics } from '../../metrics/index.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Keyring } from '../../lib/keyring.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import { describeEgressError, excerptOf, type Exchange } from './callback-answer.ts';
import { buildCallbackHeaders, callbackSigningSecret } from './callback-payload.ts';
import { proxyPathFor } from './callback-proxy-url.ts';
import { insertCallbackAttempt, type NewCallbackAttempt } from './callback.repository.ts';

/**
 * One callback exchange with a merchant, whatever its kind: the signed POST through the egress client, whether
 * its answer may be shown (`mayDisclose`), and its record in `callback_attempts` (the order timeline).
 */

export type CallbackServiceDeps = {
  db: Database;
  /** An egress client whose timeouts are the callback timeouts (see `Config.callbackConnectTimeoutMs`). */
  egress: EgressClient;
  keyring: Keyring;
  clock: Clock;
  /** Delays (seconds) between notification attempts: the webhook schedule. */
  retrySchedule: readonly number[];
  /** The longest one attempt can take; a notification's lease outlasts it. */
  attemptTimeoutMs: number;
  /**
   * Which answers may be shown (see `mayDiscloseResponse`): the egress policy, Kassa's own public URL, and
   * how host names are resolved for the check (the system resolver unless a test gives its own).
   */
  disclosure: {
    policy: CompiledEgressPolicy;
    publicUrl: string;
    resolve?: (hostname: string) => Promise<{ address: string }[]>;
  };
  logger?: { warn(object: object, message: string): void };
  /** Counts each exchange's result (src/metrics/). */
  metrics?: Pick<Metrics, 'callbackResults'>;
};

export type CallbackExchange = ReturnType<typeof createCallbackExchange>;

export function createCallbackExchange(deps: CallbackServiceDeps) {
  const { db, egress, keyring, clock } = deps;
  /** A merchant page's `http:` resource, through Kassa's signed proxy path. */
  const proxy = (httpUrl: string) => proxyPathFor(keyring, httpUrl);

  /**
   * Whether what `url` answered may reach the shopper or the timeline. In production the request itself
   * met the production rules. Elsewhere, a host name is resolved again for the check: the connection's own
   * address is not exposed by the egress client, so a name that answers differently twice (DNS rebinding)
   * could still slip a loopback body through in development; production is not affected.
   */
  async function mayDisclose(url: string): Promise<boolean> {
    const { policy, publicUrl } = deps.disclosure;
    if (policy.mode === 'production') return true;
    let addresses: IPAddress[] = [];
    const hostname = new URL(url).hostname;
    if (parseIpAddress(hostname) === null) {
      const resolve = deps.disclosure.resolve ?? resolveWithSystemDns;
      const resolved = await resolve(hostname).catch(() => []);
      addresses = resolved.map((entry) => parseIpAddress(entry.address)).filter((a) => a !== null);
    }
    return mayDiscloseResponse(policy, url, addresses, publicUrl);
  }

  /** One signed POST; never throws for network trouble (that is an answer too). */
  async function send(input: {
    scope: Scope;
    url: string;
    webhookId: string;
    body: string;
    accept: string;
    maxResponseBytes: number;
  }): Promise<Exchange> {
    const secret = await callbackSigningSecret(db, keyring, input.scope);
    const startedAt = clock.now();
    const headers = buildCallbackHeaders({
      webhookId: input.webhookId,
      timestamp: startedAt,
      body: input.body,
      secret,
      accept: input.accept,
    });
    const started = performance.now();
    try {
      const response = await egress.request({
        url: input.url,
        method: 'POST',
        headers,
        body: input.body,
        maxResponseBytes: input.maxResponseBytes,
      });
      const durationMs = Math.round(performance.now() - started);
      return { startedAt, response, durationMs, disclose: await mayDisclose(input.url) };
    } catch (error) {
      if (!(error instanceof EgressError))
        deps.logger?.warn({ err: error, url: input.url }, 'callback request failed');
      return {
        startedAt,
        error: describeEgressError(error),
        durationMs: Math.round(performance.now() - started),
      };
    }
  }

  /** Stores one exchange and counts its result. */
  function recordAttempt(attempt: NewCallbackAttempt) {
    deps.metrics?.callbackResults.inc({ kind: attempt.kind, result: attempt.result });
    return insertCallbackAttempt(db, attempt);
  }

  /** The columns of a `callback_attempts` row every kind shares. */
  function attemptBase(
    kind: NewCallbackAttempt['kind'],
    url: string,
    webhookId: string,
    payment: { id: string; merchantId: string; livemode: boolean; checkoutId: string; orderId: string },
    exchange: Exchange,
  ) {
    const response = 'response' in exchange ? exchange.response : undefined;
    return {
      merchantId: payment.merchantId,
      livemode: payment.livemode,
      checkoutId: payment.checkoutId,
      orderId: payment.orderId,
      paymentId: payment.id,
      kind,
      webhookId,
      url,
      statusCode: response?.status ?? null,
      durationMs: exchange.durationMs,
      responseExcerpt:
        response && 'disclose' in exchange && exchange.disclose ? excerptOf(response.body) : null,
      responseTruncated: response?.truncated ?? false,
      createdAt: exchange.startedAt,
    };
  }

  return { proxy, mayDisclose, send, recordAttempt, attemptBase };
}
