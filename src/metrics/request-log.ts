import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';
import type {} from '../http/http.types.ts';
import type {} from './trace-context.ts';

/**
 * One log line per request, written when the response has been sent, instead of Fastify's two: method, URL
 * (secrets masked by the `req` serializer in src/http/logging.ts), route template, status, duration, the
 * trace id, and — when the request was authenticated — who made it: merchant id, credential (API key or
 * OAuth client) id and kind, and mode. Client-token requests name the checkout the token opens.
 *
 * `level` is `info` in production and tests; development writes these lines at `debug`, so the start-up
 * banner with the demo credentials stays on the screen (KASSA_LOG_LEVEL=debug shows them). A request that
 * failed while its response was being sent is logged at `error` whatever the level.
 */
export function createRequestLogController(level: 'info' | 'debug'): LogController {
  class RequestLogController extends LogController {
    override incomingRequest(): void {}

    override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply) {
      if (error) reply.log.error({ ...requestLogFields(request, reply), err: error }, 'request errored');
      // At `warn` (the benchmark, a quiet production) the line is not written: its fields are not built.
      else if (isEnabled(reply.log, level))
        reply.log[level](requestLogFields(request, reply), 'request completed');
    }
  }
  return new RequestLogController();
}

function requestLogFields(request: FastifyRequest, reply: FastifyReply) {
  const principal = request.merchant;
  const clientToken = request.clientToken;
  return {
    req: request,
    res: { statusCode: reply.statusCode },
    route: request.routeOptions.url ?? null,
    responseTime: Math.round(reply.elapsedTime * 10) / 10,
    trace_id: request.trace?.traceId,
    ...(principal
      ? {
          merchant_id: principal.merchantId,
          credential_id: principal.credential.id,
          credential_kind: principal.credential.kind,
          livemode: principal.livemode,
        }
      : clientToken
        ? {
            merchant_id: clientToken.merchantId,
            credential_kind: 'client_token',
            checkout_id: clientToken.checkoutId,
            livemode: clientToken.livemode,
          }
        : {}),
  };
}

/** Whether a line at `level` would be written (pino's `isLevelEnabled`; a logger without it writes every level). */
function isEnabled(log: object, level: string): boolean {
  const check = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled;
  return check === undefined || check.call(log, level);
}
