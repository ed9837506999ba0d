import type { FastifyServerOptions } from 'fastify';
import { traceLogFields } from '../metrics/trace-context.ts';

/**
 * Structured logs (pino through Fastify). Secrets never reach them: authorization and cookie headers are
 * censored, hosted-page signatures and tokens are masked in URLs, and request bodies (which may hold card
 * data) are not logged at all.
 */

const SECRET_QUERY_PARAMS = /([?&](?:client_token|token|signature|sig|csrf|code)=)[^&#]*/gi;
// /pay/<checkout id>/<signature> and /l/<link id>/<signature>: the last segment is a bearer secret.
const SECRET_PATH_SEGMENTS = /(\/(?:pay|l)\/[A-Za-z0-9_]+\/)[^/?#]+/g;

export function redactUrl(url: string): string {
  return url.replace(SECRET_PATH_SEGMENTS, '$1[redacted]').replace(SECRET_QUERY_PARAMS, '$1[redacted]');
}

export function loggerOptions(options: {
  level: string;
  stream?: NodeJS.WritableStream;
}): Exclude<FastifyServerOptions['logger'], boolean | undefined> {
  return {
    level: options.level,
    ...(options.stream ? { stream: options.stream } : {}),
    // Lines written while a request is handled (its own, the payment flow's, …) name its W3C trace id.
    mixin: traceLogFields,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.card_number',
        '*.cvc',
        '*.client_secret',
        '*.access_token',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req(request: { method: string; url: string; ip?: string; id?: string }) {
        return { method: request.method, url: redactUrl(request.url), remoteAddress: request.ip };
      },
    },
  };
}
