import { createHash, timingSafeEqual } from 'node:crypto';

export function sha256(data: string | Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** Constant-time comparison of two digests (or any equal-length buffers). */
export function digestsEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * JSON with object keys sorted at every level, so two bodies that differ only in key order or white space
 * produce the same text (used for idempotency fingerprints and signatures over structured data).
 */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // Loops and one string rather than entries, filter, sort, map and join: this runs on every idempotent
  // request's body (its fingerprint), and the arrays those made were most of its cost.
  if (Array.isArray(value)) {
    let text = '';
    for (let index = 0; index < value.length; index++) text += `,${stableStringify(value[index])}`;
    return `[${text.slice(1)}]`;
  }
  const record = value as Record<string, unknown>;
  let text = '';
  // The default sort orders by UTF-16 code units, as `<` does.
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item !== undefined) text += `,${JSON.stringify(key)}:${stableStringify(item)}`;
  }
  return `{${text.slice(1)}}`;
}
