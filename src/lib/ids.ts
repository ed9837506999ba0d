import { randomBytes } from 'node:crypto';
import { pooledRandomHex } from './random.ts';

/**
 * Every id prefix in the API. An id is `<prefix>_`, 12 hex digits of the milliseconds since 1970 at which it was
 * made, and 32 random hex digits (128 bits, so an id can safely grant access). The time part is there for the
 * database: ids made one after another sort one after another, so every index keyed by an id grows at its
 * right-hand edge instead of writing into a random page of a large index (docs/performance.md, "Time-led ids").
 * It is not the object's `created_at` and nothing reads it as a time. Ids made before it existed (32 hex
 * digits, all random) stay valid: `ID_BODY` accepts both.
 */
export const ID_PREFIXES = [
  'mer',
  'cli',
  'key',
  'chk',
  'ord',
  'cus',
  'pay',
  'cap',
  'ref',
  'pl',
  'evt',
  'whe',
  'del',
  'pm',
  'req',
  'aud',
  'pa',
  'ss',
] as const;
export type IdPrefix = (typeof ID_PREFIXES)[number];

/** The part of an id after `<prefix>_`, as a regular-expression source: time-led (44 hex) or older (32 hex). */
export const ID_BODY = '(?:[0-9a-f]{12})?[0-9a-f]{32}';

/** `^<prefix>_<body>$` for one or more prefixes (several as alternatives), e.g. `idPattern('chk', 'pl')`. */
export function idPattern(...prefixes: IdPrefix[]): RegExp {
  return new RegExp(`^(?:${prefixes.join('|')})_${ID_BODY}$`);
}

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${Date.now().toString(16).padStart(12, '0')}${pooledRandomHex(16)}`;
}

/**
 * `newId` in SQL, for ids only the database can make (one per row an INSERT … SELECT writes): `prefix`, 12 hex
 * digits of the milliseconds of the timestamp expression `at`, then `randomHex`, an SQL expression of 32 hex.
 */
export function timeLedIdSql(prefix: IdPrefix, at: string, randomHex: string): string {
  return `'${prefix}_' || lpad(to_hex((extract(epoch FROM ${at}) * 1000)::bigint), 12, '0') || ${randomHex}`;
}

/**
 * An id derived from another (a payment's from its checkout and Idempotency-Key, a capture's from its payment):
 * `<prefix>_`, the time part of `parentId` (none if the parent is an older id without one) and `digest`'s
 * first 32 hex digits. Deterministic, so a retry names the same object, and time-led like the parent, so its
 * index entries land beside the parent's instead of in a random page.
 */
export function derivedId(prefix: IdPrefix, parentId: string, digestHex: string): string {
  const body = parentId.slice(parentId.indexOf('_') + 1);
  const timePart = body.length === 44 ? body.slice(0, 12) : '';
  return `${prefix}_${timePart}${digestHex.slice(0, 32)}`;
}

/** A random URL-safe secret of `bytes` bytes (default 32 = 256 bits). */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

const ANY_ID = new RegExp(`^[a-z]+_${ID_BODY}$`);

export function hasIdPrefix(value: string, prefix: IdPrefix): boolean {
  return value.startsWith(`${prefix}_`) && ANY_ID.test(value);
}
