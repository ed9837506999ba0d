import { z } from 'zod';
import { validationError, type FieldError } from './errors.ts';

/**
 * The merchant's own key–value data on every main object (docs/api-conventions.md, Metadata): at most 50 keys
 * of 1–40 characters; values are strings of at most 500 characters, numbers or booleans. Kassa never reads it.
 * One schema for every creation (`zMetadata`: a null value is refused — nothing to remove yet, and a stored
 * null would read as "removed" in the next PATCH) and one for every PATCH (`zMetadataPatch`: merged key by key,
 * a null value removes its key, `null` for the whole removes every key).
 */

export const MAX_METADATA_KEYS = 50;

export type Metadata = Record<string, string | number | boolean>;
/** A PATCH's metadata: a key set to null is removed; `null` for the whole removes every key. */
export type MetadataPatch = Record<string, string | number | boolean | null>;

const zKey = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(40, { error: 'must be at most 40 characters' });

const zValue = z.union([z.string().max(500), z.number(), z.boolean()], {
  error: 'must be a string (at most 500 characters), a number or a boolean',
});

const keyCountRule = {
  error: `must hold at most ${MAX_METADATA_KEYS} keys`,
  params: { code: 'too_many_keys' },
} as const;

/** Metadata sent at creation. */
export const zMetadata = z
  .record(zKey, zValue)
  .refine((value) => Object.keys(value).length <= MAX_METADATA_KEYS, keyCountRule)
  .meta({
    description: `The merchant's own data, never interpreted by Kassa: up to ${MAX_METADATA_KEYS} keys (≤ 40 characters) with strings (≤ 500 characters), numbers or booleans`,
  });

/** Metadata sent in a PATCH; the key count is checked on the merged result (`metadataKeyCountError`). */
export const zMetadataPatch = z
  .record(
    zKey,
    z.union([z.string().max(500), z.number(), z.boolean(), z.null()], {
      error: 'must be a string (at most 500 characters), a number, a boolean, or null to remove the key',
    }),
  )
  .nullable()
  .meta({
    description:
      'Merged onto the stored metadata: a key set to null is removed, other keys are kept; null removes every key',
  });

/** Metadata as answered: what was stored. */
export const zMetadataOut = z
  .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
  .describe("The merchant's own data, never interpreted by Kassa");

/** Merges a metadata patch onto `current`: null removes a key, `null` as a whole removes them all. */
export function mergeMetadata(current: Metadata, patch: MetadataPatch | null): Metadata {
  if (patch === null) return {};
  const merged: Metadata = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/** The field error of merged metadata with too many keys, or null. */
export function metadataKeyCountError(metadata: Metadata): FieldError | null {
  return Object.keys(metadata).length > MAX_METADATA_KEYS
    ? {
        pointer: '/metadata',
        code: 'too_many_keys',
        message: `must hold at most ${MAX_METADATA_KEYS} keys; got ${Object.keys(metadata).length}`,
      }
    : null;
}

/** Whether two metadata maps hold the same keys and values (a PATCH that changes nothing keeps the version). */
export function sameMetadata(a: Metadata, b: Metadata): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => Object.is(a[key], b[key]));
}

/**
 * A PATCH's metadata applied to `current`: the merged metadata, or undefined when the patch is absent or
 * changes nothing (the object keeps its version); a 422 past the key limit.
 */
export function patchedMetadata(
  current: Metadata,
  patch: MetadataPatch | null | undefined,
): Metadata | undefined {
  if (patch === undefined) return undefined;
  const merged = mergeMetadata(current, patch);
  const tooMany = metadataKeyCountError(merged);
  if (tooMany) throw validationError([tooMany]);
  return sameMetadata(merged, current) ? undefined : merged;
}
