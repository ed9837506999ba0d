import type { Queryable } from '../../db/client.ts';
import { ORDER_VERIFICATION_DECLINE_CODE } from '../callbacks/callback.types.ts';

/**
 * Card-testing limits: how many DECLINED payment attempts may be made per checkout, per client address and per
 * card (its keyed fingerprint, never the number).
 *
 * - Per checkout: counted from the checkout's own REJECTED payments (a refusal by `verify_order` is the
 *   merchant's, not counted). Attempts on one checkout never overlap (one attempt in flight per session), so
 *   the count is exact: the decline that reaches the limit cancels the checkout and no further attempt starts.
 * - Per address and per card: counters in PostgreSQL (`card_attempt_limits`, a fixed window per key), shared
 *   by every gateway process and, in live mode, every merchant (a card tester moves from shop to shop). In
 *   test mode they do not count unless `inTestMode`: no real card can be tried there (the sandbox and the
 *   processors' test environments take only their test numbers), and a merchant's integration tests decline
 *   the same test cards over and over, as Stripe's and Adyen's test modes let them. Counted in test mode, they
 *   count apart, per merchant (everyone declines the same test cards; nobody's live shoppers must pay
 *   for that). Before an attempt the counts are
 *   read (one statement): at the limit the attempt is refused before anything reaches the processor. A
 *   decline adds one to each key in one atomic upsert. Only declines count — in-flight attempts do not — so
 *   parallel approved payments of one card or one address (a busy NAT, the benchmark's closed loops) are never
 *   held back; the price is that attempts already in flight when the limit is reached still finish (the
 *   overshoot is bounded by the concurrency at that moment, and every later attempt is refused).
 * - The first refusal of a key's window is reported once (`notified`), for the merchant's
 *   `checkout.attempts_limited` event.
 */

export type AttemptLimitsConfig = {
  /** Declines per checkout; the one that reaches it cancels the checkout (`too_many_declines`). 0 = no limit. */
  perCheckout: number;
  /** Declines per client address per window; 0 = no limit. */
  perClientAddress: number;
  /** Declines per card fingerprint per window; 0 = no limit. */
  perCard: number;
  windowSeconds: number;
  /** Whether the address and card limits count in test mode too (the checkout limit always does). */
  inTestMode: boolean;
};

export type AttemptLimitKind = 'client_address' | 'card';

export type AttemptSubject = {
  merchantId: string;
  livemode: boolean;
  /** The shopper's address (the hosted page's client); absent for server-to-server payments. */
  clientAddress?: string | undefined;
  /**
   * The card's fingerprints (`cardFingerprintCandidates`): under the current master key first, then under
   * each previous one. Absent for other methods.
   */
  cardFingerprints?: readonly string[] | undefined;
};

export type AttemptRefusal = {
  limit: AttemptLimitKind;
  retryAfterSeconds: number;
  /** The first refusal of this key's window (the one to tell the merchant about). */
  first: boolean;
};

export type AttemptLimiter = {
  /**
   * Undefined when the attempt may go ahead; else why not. `beforeRefusing` runs once the attempt is known to
   * be refused, before the refusal is counted as the window's first: what it throws is the answer instead
   * (the replay of a request answered before), and the window's first refusal is still to come.
   */
  check(
    subject: AttemptSubject,
    now: Date,
    beforeRefusing?: () => Promise<void>,
  ): Promise<AttemptRefusal | undefined>;
  /** Counts a declined attempt on its address and card. */
  recordDecline(subject: AttemptSubject, now: Date): Promise<void>;
  /** True when checkout `checkoutId` has had as many declines as it may (it is to be canceled). */
  checkoutExhausted(checkoutId: string): Promise<boolean>;
};

type Counter = { key: string; points: number; expire: string };

/** One limit of an attempt: its counters (one per key; several for a card during a rotation) add up. */
type Limit = { kind: AttemptLimitKind; max: number; keys: string[] };

const READ = `SELECT key, points, expire FROM card_attempt_limits WHERE key = ANY($1::text[]) AND expire > $2::bigint`;

const COUNT = `
  INSERT INTO card_attempt_limits AS l (key, points, expire)
  SELECT key, 1, $2::bigint FROM unnest($1::text[]) AS key
  ON CONFLICT (key) DO UPDATE SET
    points = CASE WHEN l.expire <= $3::bigint THEN 1 ELSE l.points + 1 END,
    notified = CASE WHEN l.expire <= $3::bigint THEN false ELSE l.notified END,
    expire = CASE WHEN l.expire <= $3::bigint THEN EXCLUDED.expire ELSE l.expire END`;

const NOTIFY_ONCE = `UPDATE card_attempt_limits SET notified = true WHERE key = $1 AND NOT notified RETURNING key`;

const DECLINES_OF_CHECKOUT = `
  SELECT count(*)::int AS declines FROM payments
   WHERE checkout_id = $1 AND status = 'REJECTED' AND decline_code IS DISTINCT FROM $2`;

export function createAttemptLimiter(db: Queryable, config: AttemptLimitsConfig): AttemptLimiter {
  const windowMs = config.windowSeconds * 1000;

  /**
   * The counters of one attempt: its address, and its card under each master key (the current one first).
   * A card's declines made before a master-key rotation were counted under its fingerprint of the previous
   * key, later ones under the current key's: the card's count is the sum over all of them, so the per-card
   * limit holds across a rotation (for as long as the previous key is configured — at least one window).
   */
  function limitsOf(subject: AttemptSubject): Limit[] {
    // Live counts are gateway-wide; test-mode counts are the merchant's own: every developer declines the same
    // test cards, and one merchant's tests must not hold another's back.
    const mode = subject.livemode ? 'live' : `test:${subject.merchantId}`;
    const limits: Limit[] = [];
    if (!subject.livemode && !config.inTestMode) return limits;
    if (config.perClientAddress > 0 && subject.clientAddress)
      limits.push({
        kind: 'client_address',
        max: config.perClientAddress,
        keys: [`${mode}:addr:${subject.clientAddress}`],
      });
    const fingerprints = [...new Set(subject.cardFingerprints ?? [])];
    if (config.perCard > 0 && fingerprints.length > 0)
      limits.push({
        kind: 'card',
        max: config.perCard,
        keys: fingerprints.map((fingerprint) => `${mode}:card:${fingerprint}`),
      });
    return limits;
  }

  return {
    async check(subject, now, beforeRefusing) {
      const limits = limitsOf(subject);
      if (limits.length === 0) return undefined;
      const nowMs = now.getTime();
      const { rows } = await db.query<Counter>(READ, [limits.flatMap((limit) => limit.keys), nowMs]);
      let worst: { limit: Limit; row: Counter } | undefined;
      for (const limit of limits) {
        const counters = rows.filter((row) => limit.keys.includes(row.key));
        const points = counters.reduce((sum, row) => sum + row.points, 0);
        if (points < limit.max) continue;
        // Free again when the latest of its counters expires.
        const row = counters.reduce((a, b) => (Number(a.expire) >= Number(b.expire) ? a : b));
        if (!worst || Number(row.expire) > Number(worst.row.expire)) worst = { limit, row };
      }
      if (!worst) return undefined;
      await beforeRefusing?.();
      const notified = await db.query(NOTIFY_ONCE, [worst.row.key]);
      return {
        limit: worst.limit.kind,
        retryAfterSeconds: Math.max(1, Math.ceil((Number(worst.row.expire) - nowMs) / 1000)),
        first: (notified.rowCount ?? 0) > 0,
      };
    },

    async recordDecline(subject, now) {
      // Counted under the current key only (the first key of each limit); `check` adds up the others.
      const keys = limitsOf(subject).map((limit) => limit.keys[0]!);
      if (keys.length === 0) return;
      const nowMs = now.getTime();
      await db.query(COUNT, [keys, nowMs + windowMs, nowMs]);
    },

    async checkoutExhausted(checkoutId) {
      if (config.perCheckout <= 0) return false;
      const { rows } = await db.query<{ declines: number }>(DECLINES_OF_CHECKOUT, [
        checkoutId,
        ORDER_VERIFICATION_DECLINE_CODE,
      ]);
      return rows[0]!.declines >= config.perCheckout;
    },
  };
}
