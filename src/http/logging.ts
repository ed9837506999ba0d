import type { FastifyServerOptions } from 'fastify';
import { traceLogFields } from '../metrics/trace-context.ts';

/**
 * Structured logs (pino through Fastify). Secrets never reach them: authorization and cookie headers are
 * censored, bearer URL parts (hosted-page and payment-link signatures, the callback proxy's signature, sandbox
 * decision references, token query parameters) are masked, and request bodies (which may hold card data) are
 * not logged at all.
 *
 * The URL masking runs twice: on the request serializer (the `req.url` of every request line), and on every
 * finished log line (`hooks.streamWrite`), so a URL quoted anywhere else — an error message such as Fastify's
 * own warnings, which name the request URL, a stack, a field someone adds later — is masked too.
 */

// Values stop at the end of the parameter and never run past a JSON string's end (`"`, `\`) or whitespace,
// so the same patterns are safe on a URL and on a serialised log line.
const SECRET_QUERY_PARAMS =
  /([?&](?:client_token|kassa_token|token|access_token|signature|sig|csrf|csrf_token|code)=)[^&#\s"\\]+/gi;
// Path segments that are bearer secrets: /pay/<checkout id>/<signature>, /l/<link id>/<signature>,
// /callback-proxy/<signature>, /sandbox/3ds|wallet/<reference>.
const SECRET_PATH_SEGMENTS =
  /(\/(?:pay|l)\/[A-Za-z0-9_]+\/|\/callback-proxy\/|\/sandbox\/(?:3ds|wallet)\/)[^/?#\s"\\]+/g;

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
    // The masked text is still valid JSON: the replacements never touch quotes or escapes.
    hooks: { streamWrite: redactUrl },
  };
}
