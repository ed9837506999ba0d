import { hash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Database, Transaction } from '../db/client.ts';
import { AppError } from '../lib/errors.ts';
import type { Keyring } from '../lib/keyring.ts';
import { stableStringify } from '../lib/hashing.ts';
import { requireMerchant } from './http.types.ts';
import {
  isKeyTaken,
  keyInUse,
  KeyRecordRaced,
  lockKeyAndFindRecord,
  queueCompletedRecord,
  queueLockKeyAndFindRecord,
  retryWhenRaced,
  type KeyLookup,
  type RecordIdentity,
} from './idempotency-record.ts';

/**
 * Idempotency for every POST (docs/api-conventions.md), one mechanism:
 *
 * - The key is scoped to (merchant, mode). Its record stores a fingerprint of method, path and body (keys
 *   sorted, so white space and key order do not matter) and the response.
 * - `transactional` routes: the record is inserted in the SAME transaction as the effect. It exists if and
 *   only if the effect committed, so a failed or rolled-back attempt (validation errors included) leaves
 *   nothing behind and may simply be retried.
 * - A request whose key is being executed right now gets 409 `idempotency_key_in_use`: the executing
 *   transaction holds a transaction-scoped advisory lock on the key, which is released at commit or rollback.
 * - Same key again: same fingerprint → the stored response with `Idempotent-Replayed: true`; another
 *   fingerprint → 422 `idempotency_key_reused`.
 * - Records are kept `KASSA_RETENTION_IDEMPOTENCY_HOURS` (24 by default), then pruned by the retention worker
 *   (`src/workers/retention.worker.ts`).
 *
 * This file is the HTTP side (the header, the fingerprint, the answers); the record's table and lock are in
 * `idempotency-record.ts`.
 */

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/; // visible ASCII, 1–255 characters

/**
 * The `Idempotency-Key` header in a route's schema, where the route words what a retry gives; the OpenAPI
 * document adds the plain one to every other POST (openapi/document.ts). Loose: fastify replaces
 * request.headers with the parsed value, so every other header must pass through.
 */
export function idempotencyHeader(description = 'Makes the request safe to retry (kept 24 h)') {
  return z.looseObject({ 'idempotency-key': z.string().max(255).optional().describe(description) });
}

export type StoredResponse = { status: number; body: string };

/**
 * Stored responses can hold secrets shown once (a webhook secret, a client token), so they are kept
 * encrypted (AES-256-GCM, a key derived from the master key) and opened only to replay them.
 */
export type ResponseSealer = { seal(body: string): string; open(stored: string): string };

export function createResponseSealer(keyring: Keyring): ResponseSealer {
  return {
    seal: (body) => keyring.encrypt('idempotency-response-encryption', body).toString('base64'),
    open: (stored) =>
      keyring.decrypt('idempotency-response-encryption', Buffer.from(stored, 'base64')).toString('utf8'),
  };
}

declare module 'fastify' {
  interface FastifyInstance {
    idempotencyResponses: ResponseSealer;
    /** The lease of `pipeline` routes (`pipelineLeaseSeconds`), derived from the configured timeouts. */
    pipelineLeaseSeconds: number;
  }
}

export function readIdempotencyKey(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined) return undefined;
  const key = Array.isArray(header) ? header[0] : header;
  if (key === undefined || !KEY_PATTERN.test(key)) {
    throw new AppError('idempotency_key_invalid', 'Idempotency-Key must be 1–255 visible ASCII characters');
  }
  return key;
}

export function fingerprintRequest(request: FastifyRequest): string {
  return fingerprintOf(request, request.body);
}

function fingerprintOf(request: FastifyRequest, body: unknown): string {
  const path = request.url.split('?')[0];
  return hash('sha256', `${request.method} ${path}\n${stableStringify(body ?? null)}`, 'hex');
}

const equivalentBodies = new WeakMap<FastifyRequest, readonly unknown[]>();

/**
 * Other forms of the request's body that are the same request: a route that keys part of its body before the
 * fingerprint (`POST /v1/payments` replaces the card by an HMAC of the master key) names the forms under the
 * previous master keys, so a request sent before a master-key rotation and retried after it with the same
 * Idempotency-Key is recognised (replayed, resumed), not refused as another request.
 */
export function setEquivalentBodies(request: FastifyRequest, bodies: readonly unknown[]): void {
  equivalentBodies.set(request, bodies);
}

/** The request's fingerprint first, then those of its equivalent bodies. */
export function acceptedFingerprints(request: FastifyRequest): string[] {
  return [
    fingerprintRequest(request),
    ...(equivalentBodies.get(request) ?? []).map((body) => fingerprintOf(request, body)),
  ];
}

/** Whose key, and which request it belongs to. */
export function recordIdentity(
  request: FastifyRequest,
  merchantId: string,
  livemode: boolean,
  key: string,
  fingerprint: string,
): RecordIdentity {
  return { merchantId, livemode, key, method: request.method, path: request.url.split('?')[0]!, fingerprint };
}

export function replay(reply: FastifyReply, stored: StoredResponse) {
  return reply
    .code(stored.status)
    .header('idempotent-replayed', 'true')
    .type('application/json; charset=utf-8')
    .serializer((payload: unknown) => payload as string)
    .send(stored.body);
}

/** Thrown to roll back an attempt whose key already has a completed record; the record is replayed. */
export class ReplayStored extends Error {
  constructor(readonly stored: StoredResponse) {
    super('replay the stored response');
  }
}

/** Thrown when the statement the key's lookup travelled with failed, taking the lookup's answer with it. */
class KeyLookupLost extends Error {}

/**
 * Runs `effect` in a transaction and answers `statusCode` with its result, honouring Idempotency-Key.
 * Use it from every merchant POST route whose effect is database-only. Resolves, with nothing, once the
 * answer has been sent (a Fastify reply is thenable: resolving with the reply would hand the caller `undefined`
 * and suggest otherwise); the route then returns `reply` or this promise.
 *
 * The key's lock-and-find does not cost a round trip of its own: it is deferred (`tx.deferRead`) and travels
 * with the effect's first statement. Its verdict is checked before anything commits, and wins over whatever
 * the effect did: for a key that is held (409), another request's (422) or already answered (replay), the
 * effect is rolled back unseen. Only if the statement it travelled with failed — its answer lost with it —
 * is the attempt run again the careful way, lookup first.
 */
export async function respondIdempotently<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  db: Database,
  statusCode: number,
  effect: (tx: Transaction) => Promise<T>,
): Promise<void> {
  const key = readIdempotencyKey(request);
  if (key === undefined) {
    const result = await db.transaction(effect);
    await reply.code(statusCode).send(result);
    return;
  }
  const { merchantId, livemode } = requireMerchant(request);
  const fingerprints = acceptedFingerprints(request);
  const fingerprint = fingerprints[0]!;

  const attempt = (careful: boolean) =>
    db
      .transaction(async (tx) => {
        let lookUp: () => Promise<KeyLookup>;
        if (careful) {
          const found = await lockKeyAndFindRecord(tx, merchantId, livemode, key, fingerprints);
          lookUp = async () => found;
        } else {
          lookUp = queueLockKeyAndFindRecord(tx, merchantId, livemode, key, fingerprints, (error) => {
            throw new KeyLookupLost('the key lookup was lost with the statement it travelled with', {
              cause: error,
            });
          });
        }
        const refuseTakenKey = async () => {
          const { existing } = await lookUp();
          if (!existing) return;
          if (existing.state === 'in_progress') throw keyInUse();
          const body = request.server.idempotencyResponses.open(existing.response_body!);
          throw new ReplayStored({ status: existing.response_status!, body });
        };
        if (careful) await refuseTakenKey();

        let result: T;
        try {
          result = await effect(tx);
        } catch (error) {
          await refuseTakenKey(); // the key's verdict first
          throw error;
        }
        await refuseTakenKey();
        // Serialise exactly as the response will be, so a replay is byte-for-byte the first answer.
        const body = JSON.stringify(result);
        queueCompletedRecord(
          tx,
          recordIdentity(request, merchantId, livemode, key, fingerprint),
          statusCode,
          request.server.idempotencyResponses.seal(body),
        );
        return body;
      })
      .catch((error: unknown) => {
        if (isKeyTaken(error)) throw new KeyRecordRaced();
        throw error;
      });

  let body: string;
  try {
    body = await retryWhenRaced(() =>
      attempt(false).catch((error: unknown) => {
        if (error instanceof KeyLookupLost) return attempt(true);
        throw error;
      }),
    );
  } catch (error) {
    if (error instanceof ReplayStored) {
      await replay(reply, error.stored);
      return;
    }
    throw error;
  }
  await reply
    .code(statusCode)
    .type('application/json; charset=utf-8')
    .serializer((payload: unknown) => payload as string)
    .send(body);
}
