import type { FastifyReply, FastifyRequest } from 'fastify';
import { toProblemDocument, type AppError } from '../../lib/errors.ts';

/**
 * Sends an error as an RFC 9457 problem document with its code from the catalogue. Its own file: the error
 * handler and the page replies (which answer problems to API clients) both send one.
 */
export function sendProblem(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  for (const [name, value] of Object.entries(error.headers ?? {})) reply.header(name, value);
  return reply
    .code(error.status)
    .type('application/problem+json')
    .serializer((payload: unknown) => JSON.stringify(payload))
    .send(toProblemDocument(error, { instance: request.url.split('?')[0], requestId: String(request.id) }));
}
