import type { FastifyRequest, preValidationAsyncHookHandler } from 'fastify';
import { validationError } from '../../lib/errors.ts';
import type { KassaApp } from '../http.types.ts';

/**
 * Unknown query parameters on `GET /v1/…` routes are refused like unknown body fields (docs/api-conventions.md
 * §9): 422 `validation_failed`, one `unknown_field` error per parameter, pointing at `/query/<name>`. A
 * misspelt filter (`?stauts=OPEN`, `?expand[]=order` where nothing expands) silently ignored would answer
 * a different list than the caller asked for.
 *
 * The known parameters are the keys of the route's zod `querystring` object; a route without one takes
 * none. Registered as an onRoute hook, so every `/v1` GET route — including ones added later — gets it.
 * Pages, the SDK's scripts and the hosted page keep their own parameters (they are not under `/v1`).
 */
export function registerUnknownQueryRefusal(app: KassaApp) {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!route.url.startsWith('/v1/') || !methods.every((m) => m === 'GET' || m === 'HEAD')) return;
    const known = knownParameters(route.schema?.querystring);
    if (known === undefined) return; // a query schema that is not an object: it judges the query itself
    const refuse: preValidationAsyncHookHandler = async (request: FastifyRequest) => {
      const unknown = Object.keys((request.query ?? {}) as Record<string, unknown>).filter(
        (name) => !known.has(name),
      );
      if (unknown.length === 0) return;
      throw validationError(
        unknown.map((name) => ({
          pointer: `/query/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
          code: 'unknown_field',
          message: known.size
            ? `is not a parameter of this route (it takes ${[...known].join(', ')})`
            : 'is not a parameter of this route (it takes none)',
        })),
      );
    };
    const existing = route.preValidation;
    route.preValidation = [
      refuse,
      ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]),
    ];
  });
}

/** The keys of a zod object schema; an empty set without a schema; undefined for another kind of schema. */
function knownParameters(schema: unknown): Set<string> | undefined {
  if (schema === undefined || schema === null) return new Set();
  const shape = (schema as { shape?: unknown }).shape;
  if (shape && typeof shape === 'object') return new Set(Object.keys(shape));
  return undefined;
}
