import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError } from '../../lib/errors.ts';
import type { KassaApp } from '../http.types.ts';
import { acceptedAnswer, sendNotFoundPage } from '../hosted/page-reply.ts';
import { jsonBodyRequired, takesJsonOnly } from './json-body.ts';
import { sendProblem } from './problem-reply.ts';

export { sendProblem };

/**
 * Every failure leaves as an RFC 9457 problem document with a code from the catalogue — unknown routes,
 * wrong methods, bad media types, malformed JSON, oversized bodies and unexpected exceptions included.
 * Nothing internal (stack, SQL, host names) reaches the body; unexpected errors are logged with the request id.
 */

/**
 * Errors the router raises before any route or hook runs (Fastify's `frameworkErrors`): a path that is not
 * valid percent-encoding, or a path segment longer than the router accepts. Without this they would leave
 * as Fastify's own JSON, not as problem documents.
 */
export function sendFrameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const detail =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? 'A path segment is longer than any id (at most 100 characters)'
      : error.code === 'FST_ERR_BAD_URL'
        ? 'The path is not valid percent-encoding'
        : undefined;
  if (detail === undefined) {
    request.log.error({ err: error }, 'router failed');
    return sendProblem(request, reply, new AppError('internal_error'));
  }
  return sendProblem(request, reply, new AppError('invalid_request', detail));
}

const FASTIFY_ERROR_CODES: Record<string, (error: FastifyError, request: FastifyRequest) => AppError> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: (error, request) =>
    takesJsonOnly(request.routeOptions.url)
      ? jsonBodyRequired(request.headers['content-type'])
      : new AppError(
          'unsupported_media_type',
          `${error.message}. Send application/json (or form-encoded where documented).`,
        ),
  FST_ERR_CTP_BODY_TOO_LARGE: () => new AppError('payload_too_large', 'The request body exceeds 1 MiB'),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    new AppError('malformed_json', 'The body is empty but the content type is JSON'),
  FST_ERR_CTP_INVALID_JSON_BODY: () => new AppError('malformed_json'),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    new AppError('invalid_request', 'The Content-Length header is wrong'),
  FST_ERR_CTP_INVALID_TYPE: () => new AppError('unsupported_media_type'),
};

function toAppError(error: FastifyError, request: FastifyRequest): AppError {
  // Schema validation failures are AppErrors already (src/http/validation.ts).
  if (error instanceof AppError) return error;
  const mapped = error.code ? FASTIFY_ERROR_CODES[error.code] : undefined;
  if (mapped) return mapped(error, request);
  if (error instanceof SyntaxError && (error as FastifyError).statusCode === 400)
    return new AppError('malformed_json');
  if (error.statusCode === 413) return new AppError('payload_too_large');
  if (error.statusCode === 415) return new AppError('unsupported_media_type');
  if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError('invalid_request', error.message);
  }
  return new AppError(
    'internal_error',
    'An unexpected error occurred. It has been logged with this request id.',
  );
}

/**
 * Paths where only machines are answered: the API, its description and keys, health checks, and the asset and
 * SDK trees. Their 404s are always problem documents; elsewhere (pages) a browser gets the 404 page.
 */
const API_PATH = /^\/(?:v1|public|sdk|\.well-known)(?:\/|$)|^\/(?:openapi\.json|healthz|readyz)$/;

export function registerErrorHandling(app: KassaApp) {
  // Route patterns by method, to tell "no such route" (404) from "route exists, other method" (405).
  const routes: { method: string; pattern: RegExp }[] = [];
  app.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const pattern = new RegExp(
      `^${route.url
        .replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
        .replace(/\\\*$/, '.*')
        .replace(/:[A-Za-z_]+/g, '[^/]+')}/?$`,
    );
    for (const method of methods) routes.push({ method, pattern });
  });

  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].filter(
      (method) => method !== 'HEAD',
    );
    if (allowed.length > 0) {
      return sendProblem(
        request,
        reply,
        new AppError(
          'method_not_allowed',
          `${request.method} is not allowed on ${path}; allowed: ${allowed.join(', ')}`,
          {
            headers: { allow: allowed.join(', ') },
          },
        ),
      );
    }
    // A browser that mistyped or cut a page address (`/pay/chk_…` without its signature) gets a page it can
    // read; anything that asks for JSON, names no preference, or is on an API path gets the problem.
    if (!API_PATH.test(path) && acceptedAnswer(request) === 'html') return sendNotFoundPage(request, reply);
    return sendProblem(request, reply, new AppError('route_not_found', `No route ${request.method} ${path}`));
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const appError = toAppError(error, request);
    if (appError.status >= 500) {
      const cause = appError.code === 'internal_error' ? error : appError.cause;
      request.log.error({ err: cause ?? error, code: appError.code }, 'request failed');
    } else if (isResponseSerializationError(error)) {
      request.log.error({ err: error }, 'response did not match its schema');
    }
    return sendProblem(request, reply, appError);
  });
}
