import type { FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.ts';
import type { KassaApp } from '../http.types.ts';

/**
 * `/v1` routes take JSON bodies (docs/api-conventions.md §9). A form or `text/plain` body — what curl sends
 * for `-d` without `-H 'Content-Type: application/json'` — is parsed by the parsers the pages need
 * (@fastify/formbody, Fastify's text parser), and would reach the schema as a string or a flat map of strings
 * and be refused with field errors that mislead (`must be an object`, every field "missing"). It is a 415
 * `unsupported_media_type` instead, whose detail names the content type sent and the fix.
 *
 * Only routes with a body schema (the ones `/openapi.json` gives a request body and a 415); not for the routes
 * that take other bodies on purpose: `POST /v1/oauth/tokens` (OAuth 2.0 clients send
 * forms) and the processor webhooks (raw bytes, whatever their type). Pages (/pay, /dashboard, /demo, …) are
 * outside `/v1` and keep their form posts.
 */
const OTHER_BODIES = /^\/v1\/(?:oauth\/tokens|processor-webhooks\/)/;

/** The media type of a Content-Type header, without parameters, lower case; '' when there is none. */
export function mediaTypeOf(header: string | undefined): string {
  return (header ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The 415 for a body that is not JSON, naming what was sent and what to send. */
export function jsonBodyRequired(contentType: string | undefined): AppError {
  const sent = mediaTypeOf(contentType) || 'no content type';
  const curlHint =
    sent === 'application/x-www-form-urlencoded'
      ? " — curl does that for -d without -H 'Content-Type: application/json'"
      : '';
  return new AppError(
    'unsupported_media_type',
    `This route takes a JSON body (Content-Type: application/json); the request was sent as ${sent}${curlHint}. ` +
      'Send Content-Type: application/json with a JSON body.',
  );
}

function hasBody(body: unknown): boolean {
  if (body === undefined || body === null) return false;
  if (typeof body === 'string' || Buffer.isBuffer(body)) return body.length > 0;
  if (typeof body === 'object') return Object.keys(body).length > 0;
  return true;
}

/** Whether a route answers a non-JSON body with the 415 above (the `/v1` API but its form and raw routes). */
export function takesJsonOnly(routeUrl: string | undefined): boolean {
  return routeUrl !== undefined && routeUrl.startsWith('/v1/') && !OTHER_BODIES.test(routeUrl);
}

/**
 * An app-wide hook rather than one attached to the routes it applies to: it must run before the shape limits
 * (src/http/plugins/request-shape.ts), which are app-wide (they also judge unknown paths), and a route's own
 * hooks run after every app-wide one. A callback hook that returns at once for a request without a body (every
 * GET): no promise per request.
 */
export function registerJsonBodyRule(app: KassaApp) {
  app.addHook('preValidation', (request: FastifyRequest, _reply, done) => {
    // A route that takes no body ignores one, whatever its type (as it ignores a JSON body).
    if (!hasBody(request.body)) return done();
    const { url, schema } = request.routeOptions;
    if (!takesJsonOnly(url) || schema?.body === undefined) return done();
    if (mediaTypeOf(request.headers['content-type']) === 'application/json') return done();
    done(jsonBodyRequired(request.headers['content-type']));
  });
}
