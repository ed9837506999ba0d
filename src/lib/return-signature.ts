import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed return URLs (docs/redirects.md): when Kassa sends the shopper back to a merchant's
 * `completed_redirect_url` or `canceled_redirect_url` it appends
 *
 *   checkout_id, order_id, status (the order's status), timestamp (unix seconds), signature
 *
 * where `signature` = hex HMAC-SHA256, keyed with the merchant's per-mode signing secret (the whole `kss_…`
 * string as UTF-8), over `${checkout_id}.${order_id}.${status}.${timestamp}`.
 *
 * After the merchant rolls its secret, and until the overlap it chose ends, a sixth parameter travels:
 * `next_signature`, the same HMAC keyed with the NEW secret, while `signature` stays keyed with the previous
 * one. So a verifier that knows one secret keeps working whichever it knows: one written before rolling
 * existed checks `signature` with the secret it has (and ignores the unknown parameter); one given the new
 * secret checks `next_signature` when present, else `signature` — which is what `verifyReturnSignature` does
 * (docs/redirects.md, "Rolling the secret"). The parameter is never repeated: verifiers refuse duplicates.
 *
 * A merchant checks the landing URL with `verifyReturnSignature`. It depends on nothing but `node:crypto`,
 * so it can be copied into a merchant's code as it is (docs/redirects.md). A valid signature proves Kassa
 * produced these values for this merchant; the status is still only what was true at redirect time —
 * fulfil orders from the API or a webhook, and use the redirect to show the shopper the right page.
 */

/** The query parameters Kassa adds to a return URL, in the order it adds them. */
export const RETURN_SIGNATURE_PARAMS = [
  'checkout_id',
  'order_id',
  'status',
  'timestamp',
  'signature',
] as const;

export type ReturnSignatureInput = { checkoutId: string; orderId: string; status: string };

/** The exact bytes that are signed. Ids and statuses never contain a dot, so the join is unambiguous. */
function signedPayload(checkoutId: string, orderId: string, status: string, timestamp: string): string {
  return `${checkoutId}.${orderId}.${status}.${timestamp}`;
}

function hmacHex(secret: string, payload: string): string {
  return createHmac('sha256', secret).update(payload, 'utf8').digest('hex');
}

/** During a secret's roll-over: the signature made with the new secret. */
export const NEXT_SIGNATURE_PARAM = 'next_signature';

/**
 * The parameters to append to a return URL (use `appendQueryParams`), timestamped `now`: the five, plus
 * `next_signature` when `nextSecret` is given (a rolled secret's overlap; `secret` is then the previous one).
 */
export function signReturnParams(
  input: ReturnSignatureInput,
  secretOrKeys: string | { secret: string; nextSecret?: string },
  now: Date,
): Record<(typeof RETURN_SIGNATURE_PARAMS)[number], string> & { next_signature?: string } {
  const keys = typeof secretOrKeys === 'string' ? { secret: secretOrKeys } : secretOrKeys;
  const timestamp = String(Math.floor(now.getTime() / 1000));
  const payload = signedPayload(input.checkoutId, input.orderId, input.status, timestamp);
  return {
    checkout_id: input.checkoutId,
    order_id: input.orderId,
    status: input.status,
    timestamp,
    signature: hmacHex(keys.secret, payload),
    ...(keys.nextSecret === undefined ? {} : { [NEXT_SIGNATURE_PARAM]: hmacHex(keys.nextSecret, payload) }),
  };
}

export type ReturnSignatureResult =
  | { valid: true; checkoutId: string; orderId: string; status: string; timestamp: number }
  | {
      valid: false;
      reason:
        | 'missing_parameter'
        | 'duplicate_parameter'
        | 'malformed'
        | 'signature_mismatch'
        | 'too_old'
        | 'in_future';
    };

export type VerifyReturnSignatureOptions = {
  /** How far the timestamp may lie from `now`, either way, in seconds. Default 600 (10 minutes). */
  toleranceSeconds?: number;
  /** The current time (a Date or milliseconds since the epoch). Default: the system clock. */
  now?: Date | number;
};

/**
 * Checks the signature Kassa put on a return URL. Pass the full landing URL (string or URL) or its query
 * (URLSearchParams), and your signing secret (`GET /v1/merchant/signing-secret`, one per mode).
 *
 * Refuses: a missing or repeated parameter, a malformed timestamp or signature, a signature that does not
 * match (compared in constant time; `signature` or, during a roll-over, `next_signature`), and a timestamp more than `toleranceSeconds` from now (a replayed old
 * link). On success returns the signed values.
 */
export function verifyReturnSignature(
  input: string | URL | URLSearchParams,
  secret: string,
  options: VerifyReturnSignatureOptions = {},
): ReturnSignatureResult {
  const params =
    input instanceof URLSearchParams
      ? input
      : typeof input === 'string'
        ? new URL(input).searchParams
        : input.searchParams;
  const values: Record<string, string> = {};
  for (const name of RETURN_SIGNATURE_PARAMS) {
    const all = params.getAll(name);
    if (all.length === 0) return { valid: false, reason: 'missing_parameter' };
    if (all.length > 1) return { valid: false, reason: 'duplicate_parameter' };
    values[name] = all[0]!;
  }
  const {
    checkout_id: checkoutId,
    order_id: orderId,
    status,
    timestamp,
    signature,
  } = values as Record<(typeof RETURN_SIGNATURE_PARAMS)[number], string>;
  const next = params.getAll(NEXT_SIGNATURE_PARAM);
  if (next.length > 1) return { valid: false, reason: 'duplicate_parameter' };
  const signatures = next.length === 1 ? [signature, next[0]!] : [signature];
  if (!/^\d{1,12}$/.test(timestamp) || signatures.some((candidate) => !/^[0-9a-f]{64}$/.test(candidate)))
    return { valid: false, reason: 'malformed' };

  const expected = Buffer.from(hmacHex(secret, signedPayload(checkoutId, orderId, status, timestamp)), 'hex');
  // Compare with every candidate (no early exit), so the timing does not say which one matched.
  let matched = false;
  for (const candidate of signatures) {
    if (timingSafeEqual(expected, Buffer.from(candidate, 'hex'))) matched = true;
  }
  if (!matched) return { valid: false, reason: 'signature_mismatch' };

  const tolerance = options.toleranceSeconds ?? 600;
  const nowMs =
    options.now === undefined
      ? Date.now()
      : typeof options.now === 'number'
        ? options.now
        : options.now.getTime();
  const age = Math.floor(nowMs / 1000) - Number(timestamp);
  if (age > tolerance) return { valid: false, reason: 'too_old' };
  if (age < -tolerance) return { valid: false, reason: 'in_future' };
  return { valid: true, checkoutId, orderId, status, timestamp: Number(timestamp) };
}
