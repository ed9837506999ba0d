import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { validationError } from '../../../lib/errors.ts';

/**
 * Unknown body fields of the webhook routes are refused one by one (docs/api-conventions.md §9): 422
 * `validation_failed` with one `unknown_field` error per field, pointing at `/<name>` — the shape unknown
 * query parameters get (src/http/plugins/unknown-query.ts). The body schemas are strict as well (so
 * `/openapi.json` says `additionalProperties: false`); this runs first so the answer names each field
 * rather than zod's one `unrecognized_keys` at the root.
 *
 * The webhook bodies are flat objects, so the top level is all there is to check.
 */
export function refuseUnknownBodyFields(schema: {
  shape: Record<string, unknown>;
}): preValidationAsyncHookHandler {
  const known = new Set(Object.keys(schema.shape));
  return async (request: FastifyRequest) => {
    const body = request.body;
    if (body === null || typeof body !== 'object' || Array.isArray(body)) return;
    const unknown = Object.keys(body).filter((name) => !known.has(name));
    if (unknown.length === 0) return;
    throw validationError(
      unknown.map((name) => ({
        pointer: `/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        code: 'unknown_field',
        message: known.size
          ? `is not a field of this request (it takes ${[...known].join(', ')})`
          : 'is not a field of this request (it takes none)',
      })),
    );
  };
}
