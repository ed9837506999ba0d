import type { FastifyRequest } from 'fastify';
import { AppError, validationError } from '../../lib/errors.ts';
import type { KassaApp } from '../http.types.ts';

/**
 * Two shapes of input no handler should ever see, refused before schema validation:
 *
 * - Bodies nested deeper than MAX_BODY_DEPTH. No legitimate body nests deeper than a handful of levels (an
 *   order's products are four deep), but JSON.parse accepts thousands, and code that walks a body
 *   recursively (idempotency fingerprints, JSON.stringify) would overflow the stack and answer 500.
 * - Text PostgreSQL cannot store: U+0000 (not allowed in `text` or `jsonb`), and unpaired UTF-16 surrogates
 *   (JSON escapes such as "\ud800", which `jsonb` refuses and `text` would silently replace). Found in any
 *   string of the body, the query or the path, the request is refused with a pointer to the field.
 *
 * Routes that answer their own validation errors (`attachValidation`, e.g. the OAuth token endpoint with its
 * RFC 6749 bodies) get the error attached as `request.validationError` instead of thrown.
 */
export const MAX_BODY_DEPTH = 32;

// eslint-disable-next-line no-control-regex
const UNSTORABLE_TEXT = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

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
    for (const child of Object.values(node as Record<string, unknown>))
      stack.push({ node: child, depth: here });
  }
  return deepest;
}

/** JSON pointers of the strings (values and keys) in `value` that PostgreSQL could not store. */
export function findUnstorableText(value: unknown, basePointer = ''): string[] {
  const found: string[] = [];
  const stack: { node: unknown; pointer: string }[] = [{ node: value, pointer: basePointer }];
  while (stack.length > 0 && found.length < 10) {
    const { node, pointer } = stack.pop()!;
    if (typeof node === 'string') {
      if (UNSTORABLE_TEXT.test(node)) found.push(pointer);
    } else if (node !== null && typeof node === 'object') {
      for (const [key, child] of Object.entries(node as Record<string, unknown>)) {
        const childPointer = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
        if (UNSTORABLE_TEXT.test(key)) found.push(childPointer);
        stack.push({ node: child, pointer: childPointer });
      }
    }
  }
  return found;
}

function checkRequestShape(request: FastifyRequest, maxDepth: number): AppError | undefined {
  const { body } = request;
  if (body !== null && typeof body === 'object' && jsonDepth(body, maxDepth) > maxDepth) {
    return new AppError('invalid_request', `The body is nested more than ${maxDepth} levels deep`);
  }
  const pointers = [
    ...findUnstorableText(body),
    ...findUnstorableText(request.query, '/query'),
    ...findUnstorableText(request.params, '/params'),
  ];
  if (pointers.length === 0) return undefined;
  return validationError(
    pointers.map((pointer) => ({
      pointer,
      code: 'invalid_characters',
      message: 'must not contain the NUL character (U+0000) or unpaired UTF-16 surrogates',
    })),
  );
}

export function registerRequestShapeLimits(app: KassaApp, maxDepth = MAX_BODY_DEPTH) {
  // A callback hook, not an async one: it runs for every request, and an async hook costs a promise each time.
  app.addHook('preValidation', (request, _reply, done) => {
    const error = checkRequestShape(request, maxDepth);
    if (error && request.routeOptions.attachValidation) {
      (request as { validationError?: Error }).validationError = error;
      return done();
    }
    done(error);
  });
}
