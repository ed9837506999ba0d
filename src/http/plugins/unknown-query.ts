import { z } from 'zod';
import type { KassaApp } from '../http.types.ts';

/**
 * Unknown query parameters on `GET /v1/…` routes are refused like unknown body fields (docs/api-conventions.md
 * §9): 422 `validation_failed`, one `unknown_field` error per parameter, pointing at `/query/<name>`. A
 * misspelt filter (`?stauts=OPEN`, `?expand[]=order` where nothing expands) silently ignored would answer
 * a different list than the caller asked for.
 *
 * The mechanism is the one every body uses: the route's zod `querystring` object is made strict here, and
 * the central validator (src/http/validation.ts) turns zod's unknown keys into one error each; a route
 * without a query schema takes none. Registered as an onRoute hook, so every `/v1` GET route — including
 * ones added later — gets it. Pages, the SDK's scripts and the hosted page keep their own parameters (they
 * are not under `/v1`).
 */
export function registerUnknownQueryRefusal(app: KassaApp) {
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!route.url.startsWith('/v1/') || !methods.every((m) => m === 'GET' || m === 'HEAD')) return;
    const schema = route.schema?.querystring;
    if (schema !== undefined && !(schema instanceof z.ZodObject)) return; // another kind judges the query itself
    route.schema = {
      ...route.schema,
      querystring: schema === undefined ? z.strictObject({}) : schema.strict(),
    };
  });
}
