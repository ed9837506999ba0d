import { randomBytes } from 'node:crypto';

/**
 * Random bytes for ids, request ids, CSP nonces and the IVs of sealed values (`keyring.ts`), drawn from the CSPRNG 4 KiB at a time: one call per
 * ~250 values instead of one per value (each call was a few % of a request's CPU in the profiles). Every
 * byte is handed out once, so each value is as unguessable as a direct randomBytes() of its size — the same
 * pooling Node's own crypto.randomUUID does. Long-lived secrets (API keys, webhook secrets) do not use it.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

function take(bytes: number): [Buffer, number] {
  if (bytes > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} pooled random bytes at a time`);
  if (offset + bytes > pool.length) {
    pool = randomBytes(POOL_BYTES);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  return [pool, start];
}

export function pooledRandomHex(bytes: number): string {
  const [buffer, start] = take(bytes);
  return buffer.toString('hex', start, start + bytes);
}

export function pooledRandomBase64(bytes: number): string {
  const [buffer, start] = take(bytes);
  return buffer.toString('base64', start, start + bytes);
}

/** The bytes themselves: a view of the pool, which is replaced when used up, never written again. */
export function pooledRandomBytes(bytes: number): Buffer {
  const [buffer, start] = take(bytes);
  return buffer.subarray(start, start + bytes);
}
