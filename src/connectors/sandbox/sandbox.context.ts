import { createHash, randomBytes } from 'node:crypto';
import type { PoolClient } from 'pg';

import { systemClock, type Clock } from '../../lib/clock.ts';
import { ConnectorError, type ConnectorNotifySink, type ConnectorStatusUpdate } from '../connector.ts';
import type { OperationRow, SandboxActionKind, SandboxDatabase } from './sandbox.ledger.ts';
import type { SandboxConnectorOptions, SandboxFaults } from './sandbox.types.ts';

/**
 * What every part of the sandbox acquirer shares (`sandbox.connector.ts`, `sandbox.actions.ts`,
 * `sandbox.notifications.ts`, `sandbox.inspect.ts`): its ledger, clock and notification sink, the simulated
 * faults, and the checks and ids of its requests.
 */

export const SANDBOX_CONNECTOR_ID = 'sandbox';
export const SANDBOX_PENDING_DELAY_MS = 30_000;
export const SANDBOX_NOTIFY_LEASE_MS = 60_000;
export const SANDBOX_NOTIFY_BACKOFF_BASE_MS = 1_000;
export const SANDBOX_NOTIFY_BACKOFF_MAX_MS = 10 * 60_000;
export const DUE_BATCH_SIZE = 100;
const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export const REFERENCE_PATTERN = /^sbx_[0-9a-f]{32}$/;

export function newReference(prefix: 'sbx' | 'sbxop' | 'sbxntf'): string {
  return `${prefix}_${randomBytes(16).toString('hex')}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A digest of the request fields that identify it, without the card number or CVC. */
export function hashRequest(parts: unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** A capture's request digest; a sale's capture is stored under it, so a later identical capture replays it. */
export function captureRequestHash(
  reference: string,
  amount: number | null,
  currency: string | null,
): string {
  return hashRequest(['capture', reference, amount, currency]);
}

export const fail = (code: ConnectorError['code'], message: string, cause?: unknown) =>
  new ConnectorError(code, message, { connectorId: SANDBOX_CONNECTOR_ID, cause });

export function assertKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
    throw fail('invalid_request', 'An idempotency key of 1–255 characters is required');
  }
}

export function assertMoney(amount: number, currency: string): void {
  if (!Number.isSafeInteger(amount) || amount <= 0) {
    throw fail('invalid_request', 'The amount must be a positive integer of minor units');
  }
  if (!/^[A-Z]{3}$/.test(currency)) throw fail('invalid_request', 'The currency must be an ISO 4217 code');
}

/** Returns the stored answer for a replayed key, or refuses a key reused for another request. */
export function replay(existing: OperationRow, requestHash: string): unknown {
  if (existing.request_hash !== requestHash) {
    throw fail('invalid_request', 'This idempotency key was already used for a different request');
  }
  return existing.result;
}

export type SandboxContext = {
  db: SandboxDatabase;
  notify: ConnectorNotifySink;
  clock: Clock;
  publicBaseUrl: string;
  pendingDelayMs: number;
  onNotificationError?: (error: unknown, update: ConnectorStatusUpdate) => void;
  /** The simulated faults in force (replaced by `setFaults`). */
  faults(): SandboxFaults;
  setFaults(next: SandboxFaults): void;
  guardLedger<T>(work: () => Promise<T>): Promise<T>;
  inTransaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T>;
  withFaults<T>(work: () => Promise<T>): Promise<T>;
  actionFor(kind: SandboxActionKind, reference: string): { type: 'redirect'; url: string };
};

export function createSandboxContext(options: SandboxConnectorOptions): SandboxContext {
  const { db } = options;
  const publicBaseUrl = options.publicBaseUrl.replace(/\/+$/, '');
  let faults: SandboxFaults = { ...options.faults };
  // Counts money-moving calls for the every-Nth faults; per instance, like a flaky link to one acquirer.
  let callCount = 0;

  /** Ledger failures look to the caller like an unreachable acquirer: retry with the same key is safe. */
  async function guardLedger<T>(work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof ConnectorError) throw error;
      throw fail('unavailable', 'The sandbox acquirer could not reach its ledger', error);
    }
  }

  async function inTransaction<T>(work: (tx: PoolClient) => Promise<T>): Promise<T> {
    const client = await db.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {
        broken = true;
      });
      throw error;
    } finally {
      client.release(broken);
    }
  }

  /** Runs one money-moving call with the configured faults around its ledger transaction. */
  async function withFaults<T>(work: () => Promise<T>): Promise<T> {
    callCount += 1;
    const call = callCount;
    const current = faults;
    if (current.latencyMs) await sleep(current.latencyMs);
    if (
      (current.failEveryNth && call % current.failEveryNth === 0) ||
      Math.random() < (current.failRate ?? 0)
    ) {
      throw fail('unavailable', 'The sandbox acquirer answered 503 Service Unavailable (simulated)');
    }
    const result = await guardLedger(work);
    if (current.responseDelayMs) await sleep(current.responseDelayMs);
    const timesOut =
      current.timeoutRate !== undefined
        ? Math.random() < current.timeoutRate
        : call % (current.timeoutEveryNth ?? 1) === 0;
    if (current.timeoutMs !== undefined && timesOut) {
      await sleep(current.timeoutMs);
      throw fail('timeout', `The sandbox acquirer did not answer within ${current.timeoutMs} ms (simulated)`);
    }
    return result;
  }

  function actionFor(kind: SandboxActionKind, reference: string) {
    const path = kind === 'three_ds' ? '3ds' : 'wallet';
    return { type: 'redirect' as const, url: `${publicBaseUrl}/sandbox/${path}/${reference}` };
  }

  return {
    db,
    notify: options.notify,
    clock: options.clock ?? systemClock,
    publicBaseUrl,
    pendingDelayMs: options.pendingDelayMs ?? SANDBOX_PENDING_DELAY_MS,
    onNotificationError: options.onNotificationError,
    faults: () => faults,
    setFaults(next) {
      faults = { ...next };
    },
    guardLedger,
    inTransaction,
    withFaults,
    actionFor,
  };
}
