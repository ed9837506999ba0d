import { z } from 'zod';
import { AppError, validationError } from '../lib/errors.ts';
import { allows, type ResourceScope } from '../modules/auth/scopes.ts';
import type { MerchantPrincipal } from '../modules/merchants/merchant.types.ts';

/**
 * `expand[]` (docs/api-conventions.md §6): a route names the `<object>_id` fields it can expand; each
 * `expand[]=<field without _id>` adds the object next to its id. At most 10 paths; an unknown one is a 422
 * pointing at `/query/expand/<index>`. Expanding reads another resource, so it needs that resource's read
 * scope too (a token with `payments` alone cannot read an order through a payment).
 */

export const MAX_EXPAND_PATHS = 10;

/** The query parameter, to spread into a route's querystring schema (the unknown-query refusal reads its keys). */
export function zExpandParameter(paths: readonly string[]) {
  return {
    'expand[]': z
      .union([z.string().max(100), z.array(z.string().max(100))])
      .optional()
      .describe(`Related objects to include next to their ids: ${paths.join(', ')} (repeat the parameter)`),
  };
}

/** The paths asked for, checked against the route's; each needs its resource's read scope. */
export function readExpand<Path extends string>(
  query: { 'expand[]'?: string | string[] | undefined },
  principal: MerchantPrincipal,
  allowed: Record<Path, ResourceScope>,
): Set<Path> {
  const raw = query['expand[]'];
  const asked = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  const names = Object.keys(allowed) as Path[];
  if (asked.length > MAX_EXPAND_PATHS)
    throw validationError([
      {
        pointer: '/query/expand',
        code: 'too_long',
        message: `may name at most ${MAX_EXPAND_PATHS} paths; got ${asked.length}`,
      },
    ]);
  const errors = asked.flatMap((path, index) =>
    (names as string[]).includes(path)
      ? []
      : [
          {
            pointer: `/query/expand/${index}`,
            code: 'invalid_value' as const,
            message: `must be one of: ${names.join(', ') || '(nothing expands here)'}; got ${JSON.stringify(path.slice(0, 100))}`,
          },
        ],
  );
  if (errors.length > 0) throw validationError(errors);
  const paths = new Set(asked as Path[]);
  for (const path of paths) {
    const resource = allowed[path];
    if (!allows(principal.scopes, resource, 'read'))
      throw new AppError(
        'insufficient_scope',
        `expand[]=${path} needs the scope "${resource}:read" (or "${resource}"), which these credentials do not hold`,
        { extensions: { required_scope: `${resource}:read` } },
      );
  }
  return paths;
}
