import { randomBytes } from 'node:crypto';
import { pooledRandomHex } from './random.ts';

/** Every id prefix in the API; the random part carries 128 bits, so an id can safely grant access. */
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

export function newId(prefix: IdPrefix): string {
  return `${prefix}_${pooledRandomHex(16)}`;
}

/** A random URL-safe secret of `bytes` bytes (default 32 = 256 bits). */
export function newSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function hasIdPrefix(value: string, prefix: IdPrefix): boolean {
  return value.startsWith(`${prefix}_`) && /^[a-z]+_[0-9a-f]{32}$/.test(value);
}
