import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KassaApp } from '../http.types.ts';

/**
 * A request answered before its body was read — a body over the limit (413), a media type we do not parse
 * (415), an unknown route (404), a refused credential — still has the rest of its body on the wire. Closing the
 * connection then (what Fastify does after a body error, `Connection: close`) resets it while the client is
 * still sending: many clients send the whole request before reading the answer, and see only EPIPE /
 * ECONNRESET, never the 413. So the rest of the body is read and thrown away, and only then is the connection
 * free (kept alive, as for any answered request) — within two bounds, so nobody can make the server read for
 * ever:
 *
 * - at most MAX_DRAINED_BODY_BYTES more bytes; a declared Content-Length above that is not read at all (the
 *   answer goes out with `Connection: close`), and a chunked body that runs past it has its connection cut;
 * - at most MAX_DRAIN_MS; a client still sending after that has its connection cut.
 *
 * Without this, Node.js reads a kept-alive connection's unread body to its end, however long (only the request
 * timeout stops it). docs/security.md lists this defence and its test.
 */

export const MAX_DRAINED_BODY_BYTES = 16 * 1024 * 1024;
export const MAX_DRAIN_MS = 10_000;

function hasUnreadBody(request: FastifyRequest): boolean {
  const raw = request.raw;
  // `complete`: the parser has the whole message; `readableEnded`: a consumer read it to its end (also what an
  // injected request, which has no parser, reports).
  if (raw.complete || raw.readableEnded || raw.destroyed) return false;
  const declared = Number(raw.headers['content-length'] ?? 0);
  return declared > 0 || raw.headers['transfer-encoding'] !== undefined;
}

function drainUnreadBody(request: FastifyRequest, reply: FastifyReply) {
  const raw = request.raw;
  const declared = Number(raw.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > MAX_DRAINED_BODY_BYTES) {
    reply.header('connection', 'close');
    return;
  }
  // The body is read to its end below, so the next bytes on the connection are the next request again: the
  // close Fastify asked for after a body error is not needed (and is what cut the clients off).
  if (String(reply.getHeader('connection') ?? '').toLowerCase() === 'close') reply.removeHeader('connection');
  let drained = 0;
  const cut = () => {
    stop();
    raw.destroy(); // and with it the connection
  };
  const onData = (chunk: Buffer) => {
    drained += chunk.length;
    if (drained > MAX_DRAINED_BODY_BYTES) cut();
  };
  const timer = setTimeout(cut, MAX_DRAIN_MS);
  timer.unref();
  function stop() {
    clearTimeout(timer);
    raw.removeListener('data', onData);
    raw.removeListener('end', stop);
    raw.removeListener('close', stop);
  }
  raw.on('data', onData);
  raw.once('end', stop);
  raw.once('close', stop);
  raw.resume();
}

export function registerUnreadBodyDrain(app: KassaApp) {
  app.addHook('onSend', (request, reply, payload, done) => {
    if (hasUnreadBody(request)) drainUnreadBody(request, reply);
    done(null, payload);
  });
}
