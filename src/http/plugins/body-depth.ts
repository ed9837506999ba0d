import { AppError } from '../../lib/errors.ts';
import type { KassaApp } from '../http.types.ts';

/**
 * No legitimate request body nests deeper than a handful of levels (an order's products are four deep), but
 * JSON.parse accepts thousands, and code that walks a body recursively (idempotency fingerprints, schema
 * validation of open records, JSON.stringify) would then overflow the stack and answer 500. Bodies nested
 * deeper than MAX_BODY_DEPTH are refused with 400 before any of that runs.
 */
export const MAX_BODY_DEPTH = 32;

/** The nesting depth of a parsed JSON value, measured without recursion (a scalar is 0, `{}` and `[]` are 1). */
export function jsonDepth(value: unknown, limit = Infinity): number {
  let deepest = 0;
  const stack: { node: unknown; depth: number }[] = [{ node: value, depth: 0 }];
  while (stack.length > 0) {
    const { node, depth } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    const here = depth + 1;
    if (here > deepest) deepest = here;
    if (deepest > limit) return deepest;
    for (const child of Object.values(node as Record<string, unknown>)) stack.push({ node: child, depth: here });
  }
  return deepest;
}

export function registerBodyDepthLimit(app: KassaApp, maxDepth = MAX_BODY_DEPTH) {
  app.addHook('preValidation', async (request) => {
    if (request.body !== null && typeof request.body === 'object' && jsonDepth(request.body, maxDepth) > maxDepth) {
      throw new AppError('invalid_request', `The body is nested more than ${maxDepth} levels deep`);
    }
  });
}
