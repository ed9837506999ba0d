import { EgressError, type EgressClient } from '../egress/index.ts';
import { createBoundedCache } from '../lib/bounded-cache.ts';
import type { Clock } from '../lib/clock.ts';
import type { Keyring } from '../lib/keyring.ts';
import { continueTrace, runInTrace, type Tracer } from '../metrics/index.ts';
import { outcomeOfVerdict } from './delivery-queue.ts';
import { judgeAttempt, type AttemptObservation } from './retry-schedule.ts';
import type { AttemptRecord, ClaimedDelivery } from './webhook-delivery.repository.ts';
import { buildWebhookHeaders, buildWebhookPayloadFromJson, webhookSigningKey } from './webhook-signer.ts';

/**
 * One attempt of one leased delivery: build the body, sign it with the endpoint's active secrets, send it
 * through the egress client, and judge the answer against the retry schedule. The delivery worker
 * (`webhook-delivery.worker.ts`) decides when attempts run and writes their results; this file decides
 * what an attempt is. It never throws for the receiver's doing: every failure, signing included, becomes a
 * recorded failure, so a delivery always runs out of attempts instead of coming back forever.
 */

export const RESPONSE_EXCERPT_BYTES = 4096;
const SECRET_CACHE_ENTRIES = 1_000;

export type AttemptLogger = {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
};

/** What the worker writes back for one claimed delivery, and whether its endpoint answered 410 Gone. */
export type Finished = { record: AttemptRecord; endpointGone: boolean; endpointId: string };

export type AttemptSenderDeps = {
  egress: EgressClient;
  keyring: Keyring;
  clock: Clock;
  logger: AttemptLogger;
  retrySchedule: readonly number[];
  random: () => number;
  tracer?: Tracer | undefined;
};

export function createAttemptSender(
  deps: AttemptSenderDeps,
): (claimed: ClaimedDelivery) => Promise<Finished> {
  const { egress, keyring, clock, logger, random } = deps;
  /**
   * Signing keys by their secret's ciphertext (hex, as the claim reads it): a rotated secret has a new
   * ciphertext, so entries never go stale. Decrypting and decoding the secret once, not per attempt, keeps
   * signing to the HMAC itself.
   */
  const signingKey = createBoundedCache(SECRET_CACHE_ENTRIES, (sealedHex) =>
    webhookSigningKey(
      keyring.decrypt('webhook-secret-encryption', Buffer.from(sealedHex, 'hex')).toString('utf8'),
    ),
  );

  async function deliver(claimed: ClaimedDelivery): Promise<Finished> {
    const base = { deliveryId: claimed.id, leaseToken: claimed.leaseToken };
    if (!claimed.endpointActive) {
      return {
        record: {
          ...base,
          outcome: 'canceled',
          retryInSeconds: null,
          error: 'The endpoint was disabled or deleted',
          attempt: null,
        },
        endpointGone: false,
        endpointId: claimed.endpointId,
      };
    }
    const attemptedAt = clock.now();
    const started = performance.now();
    // Sent in the trace of the request that caused the event (stored with it), not the worker's.
    const { observation, excerpt, truncated } = await runInTrace(
      continueTrace(claimed.traceparent, deps.tracer),
      () => signAndSend(claimed, attemptedAt),
    );
    const latencyMs = Math.round(performance.now() - started);
    const verdict = judgeAttempt(observation, {
      attemptNumber: claimed.attemptNumber,
      schedule: deps.retrySchedule,
      now: clock.now(),
      random,
    });
    const attempt = {
      number: claimed.attemptNumber,
      attemptedAt,
      url: claimed.url,
      statusCode: observation.kind === 'response' ? observation.status : null,
      latencyMs,
      responseExcerpt: excerpt,
      responseTruncated: truncated,
    };
    const failed = verdict.result === 'failed' ? verdict : null;
    return {
      record: { ...base, ...outcomeOfVerdict(verdict), error: failed?.error ?? null, attempt },
      endpointGone: failed?.disableEndpoint ?? false,
      endpointId: claimed.endpointId,
    };
  }

  /** One HTTP attempt. Never throws: every failure, signing included, becomes an error observation. */
  async function signAndSend(
    claimed: ClaimedDelivery,
    attemptedAt: Date,
  ): Promise<{ observation: AttemptObservation; excerpt: string | null; truncated: boolean }> {
    const payload = buildWebhookPayloadFromJson({
      ...claimed.event,
      id: claimed.eventId,
      type: claimed.eventType,
      apiVersion: claimed.apiVersion,
      createdAt: claimed.eventCreatedAt,
      actor: claimed.eventActor,
      dataJson: claimed.eventDataJson,
    });
    let headers: Record<string, string>;
    try {
      const secrets = claimed.secretsEncrypted.map(signingKey);
      headers = buildWebhookHeaders({ webhookId: claimed.eventId, timestamp: attemptedAt, payload, secrets });
    } catch (error) {
      // Never send unsigned. A failed attempt like any other, so the schedule still runs out.
      logger.error(
        { err: error, delivery: claimed.id },
        'cannot sign a webhook: the endpoint secret does not decrypt',
      );
      const observation: AttemptObservation = {
        kind: 'error',
        error: 'signing_failed: the endpoint secret could not be decrypted',
      };
      return { observation, excerpt: null, truncated: false };
    }
    try {
      const response = await egress.request({
        url: claimed.url,
        method: 'POST',
        headers,
        body: payload,
        maxResponseBytes: RESPONSE_EXCERPT_BYTES,
      });
      return {
        observation: { kind: 'response', status: response.status, headers: response.headers },
        // Postgres text cannot hold NUL; the excerpt is for people, so drop it.
        excerpt: response.body.length > 0 ? response.body.toString('utf8').replaceAll('\u0000', '') : null,
        truncated: response.truncated,
      };
    } catch (error) {
      if (!(error instanceof EgressError))
        logger.warn({ err: error, delivery: claimed.id }, 'webhook request failed');
      const message =
        error instanceof EgressError ? `${error.kind}: ${error.message}` : 'The request failed unexpectedly';
      return { observation: { kind: 'error', error: message }, excerpt: null, truncated: false };
    }
  }

  return deliver;
}
