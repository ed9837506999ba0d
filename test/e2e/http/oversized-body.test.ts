import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_DRAIN_MS, MAX_DRAINED_BODY_BYTES } from '../../../src/http/plugins/unread-body.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';

/**
 * A body over the limit is answered 413 (`payload_too_large`, a problem document) every time, over a real
 * socket: the server reads and discards the rest of the body (up to a bound) before it lets the connection go,
 * so the client is never cut off mid-upload (EPIPE / ECONNRESET) before it can read the answer. `inject()`
 * cannot show this: it has no socket.
 */

const MiB = 1024 * 1024;
const ATTEMPTS = 20;

type Outcome =
  | { kind: 'response'; status: number; headers: IncomingHttpHeaders; body: string }
  | { kind: 'error'; code: string };

type Upload = {
  size: number;
  /** Chunked transfer coding instead of a Content-Length. */
  chunked: boolean;
  contentType?: string;
};

const PIECE = Buffer.alloc(64 * 1024, 'a');

/**
 * A client that reads the answer while it uploads (node:http): streams `size` bytes in 64 KiB writes, honouring
 * back-pressure. Resolves with the response, or with the first error if no complete response came.
 */
function postWithNodeHttp(baseUrl: string, path: string, upload: Upload): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string | number> = {
      'content-type': upload.contentType ?? 'application/json',
      accept: 'application/json',
    };
    if (!upload.chunked) headers['content-length'] = upload.size;
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const port = Number(new URL(baseUrl).port);
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'POST', headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          finish({
            kind: 'response',
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', (error: NodeJS.ErrnoException) =>
          finish({ kind: 'error', code: error.code ?? 'ERR' }),
        );
      },
    );
    req.on('error', (error: NodeJS.ErrnoException) => finish({ kind: 'error', code: error.code ?? 'ERR' }));
    let sent = 0;
    const writeMore = () => {
      while (sent < upload.size) {
        const piece = PIECE.subarray(0, Math.min(PIECE.length, upload.size - sent));
        sent += piece.length;
        if (!req.write(piece)) {
          req.once('drain', writeMore);
          return;
        }
      }
      req.end();
    };
    writeMore();
  });
}

/**
 * A client that sends its whole request before it looks at the answer (as many HTTP libraries do), over a raw
 * socket: each 64 KiB piece is handed to the socket only once the previous one was written, so the body is
 * still being sent when the server answers. A failed write (EPIPE, ECONNRESET) is the outcome: such a client
 * never reads the answer. Otherwise the response is read and parsed (status, headers, Content-Length body).
 */
function postSendingFirst(baseUrl: string, path: string, upload: Upload): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(baseUrl).port) });
    let settled = false;
    const finish = (outcome: Outcome) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(outcome);
    };
    let received = Buffer.alloc(0);
    let bodySent = false;
    const tryParse = () => {
      if (!bodySent) return;
      const headEnd = received.indexOf('\r\n\r\n');
      if (headEnd < 0) return;
      const [statusLine, ...headerLines] = received.subarray(0, headEnd).toString('latin1').split('\r\n');
      const headers: IncomingHttpHeaders = {};
      for (const line of headerLines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length'] ?? NaN);
      const body = received.subarray(headEnd + 4);
      if (!Number.isFinite(length) || body.length < length) return;
      const status = Number(statusLine!.split(' ')[1]);
      finish({ kind: 'response', status, headers, body: body.subarray(0, length).toString('utf8') });
    };
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      tryParse();
    });
    socket.on('error', (error: NodeJS.ErrnoException) =>
      finish({ kind: 'error', code: error.code ?? 'ERR' }),
    );
    socket.on('close', () =>
      finish({ kind: 'error', code: bodySent ? 'closed before an answer' : 'closed' }),
    );

    const head = [
      `POST ${path} HTTP/1.1`,
      'host: 127.0.0.1',
      `content-type: ${upload.contentType ?? 'application/json'}`,
      'accept: application/json',
      upload.chunked ? 'transfer-encoding: chunked' : `content-length: ${upload.size}`,
      '',
      '',
    ].join('\r\n');
    const pieces: Buffer[] = [Buffer.from(head, 'latin1')];
    for (let sent = 0; sent < upload.size; sent += PIECE.length) {
      const piece = PIECE.subarray(0, Math.min(PIECE.length, upload.size - sent));
      pieces.push(
        upload.chunked
          ? Buffer.concat([Buffer.from(`${piece.length.toString(16)}\r\n`), piece, Buffer.from('\r\n')])
          : piece,
      );
    }
    if (upload.chunked) pieces.push(Buffer.from('0\r\n\r\n'));
    let next = 0;
    const writeNext = (error?: Error | null) => {
      if (error || settled) return; // the 'error' event reports it
      if (next === pieces.length) {
        bodySent = true;
        tryParse();
        return;
      }
      socket.write(pieces[next++]!, writeNext);
    };
    socket.once('connect', () => writeNext());
  });
}

function expectProblemAnswer(outcome: Outcome, status: number, code: string, attempt: string) {
  expect(outcome, attempt).toMatchObject({ kind: 'response', status });
  if (outcome.kind !== 'response') return;
  expect(String(outcome.headers['content-type']), attempt).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(outcome.body), attempt).toMatchObject({ code, status });
}

function expectPayloadTooLarge(outcome: Outcome, attempt: string) {
  expect(outcome, attempt).toMatchObject({ kind: 'response', status: 413 });
  if (outcome.kind !== 'response') return;
  expect(String(outcome.headers['content-type']), attempt).toMatch(/^application\/problem\+json/);
  const problem = JSON.parse(outcome.body) as { code: string; status: number };
  expect(problem, attempt).toMatchObject({ code: 'payload_too_large', status: 413 });
}

describe('oversized request bodies over a real socket', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ listen: true });
  });
  afterAll(() => t.close());

  const clients = { 'node:http': postWithNodeHttp, 'a send-first client': postSendingFirst };
  for (const [clientName, post] of Object.entries(clients)) {
    for (const chunked of [false, true]) {
      const framing = chunked ? 'chunked' : 'with Content-Length';
      it(`${clientName}: every 5 MiB JSON POST ${framing} gets the 413 problem (${ATTEMPTS} attempts)`, async () => {
        const outcomes: Outcome[] = [];
        for (let i = 0; i < ATTEMPTS; i += 1) {
          outcomes.push(await post(t.baseUrl, '/v1/oauth/tokens', { size: 5 * MiB, chunked }));
        }
        const seen = outcomes.map((o) => (o.kind === 'response' ? String(o.status) : o.code)).join(',');
        outcomes.forEach((outcome, i) => expectPayloadTooLarge(outcome, `attempt ${i + 1} of: ${seen}`));
      });
    }
  }

  it('a 5 MiB form post to a hosted page gets the 413 problem too', async () => {
    for (let i = 0; i < 6; i += 1) {
      const outcome = await postSendingFirst(t.baseUrl, '/pay/chk_00000000000000000000000000000000/sig', {
        size: 5 * MiB,
        chunked: i % 2 === 1,
        contentType: 'application/x-www-form-urlencoded',
      });
      expectPayloadTooLarge(outcome, `attempt ${i + 1}`);
    }
  });

  it('a body just over the limit gets the 413, and the server serves the next request', async () => {
    const outcome = await postSendingFirst(t.baseUrl, '/v1/oauth/tokens', { size: MiB + 1, chunked: false });
    expectPayloadTooLarge(outcome, 'just over the limit');
    expect((await fetch(`${t.baseUrl}/healthz`)).status).toBe(200);
  });

  it('a large body refused before it is parsed (415 media type, 401 credentials) gets its problem too', async () => {
    for (const chunked of [false, true]) {
      expectProblemAnswer(
        await postSendingFirst(t.baseUrl, '/v1/oauth/tokens', {
          size: 5 * MiB,
          chunked,
          contentType: 'application/xml',
        }),
        415,
        'unsupported_media_type',
        `unsupported media type, chunked=${chunked}`,
      );
      const unauthenticated = await postSendingFirst(t.baseUrl, '/v1/checkouts', { size: 5 * MiB, chunked });
      expect(unauthenticated, `no credentials, chunked=${chunked}`).toMatchObject({
        kind: 'response',
        status: 401,
      });
    }
  });

  /** The bytes the server read from each connection it accepted while `run` ran. */
  async function serverBytesRead(run: () => Promise<unknown>): Promise<number[]> {
    const sockets: Socket[] = [];
    const track = (socket: Socket) => sockets.push(socket);
    t.app.server.on('connection', track);
    try {
      await run();
    } finally {
      t.app.server.off('connection', track);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    return sockets.map((socket) => socket.bytesRead);
  }

  it(`reads and discards at most ${MAX_DRAINED_BODY_BYTES / MiB} MiB of a refused body: past that the connection is cut`, async () => {
    // Over the body limit (413), and refused before any body is parsed (401): Node.js alone would read the
    // latter's body to its end, however long.
    for (const path of ['/v1/oauth/tokens', '/v1/checkouts']) {
      let outcome: Outcome | undefined;
      const [read] = await serverBytesRead(async () => {
        outcome = await postSendingFirst(t.baseUrl, path, { size: 200 * MiB, chunked: true });
      });
      // The client could not send it all: the server stopped reading and closed the connection.
      expect(outcome?.kind, path).toBe('error');
      // The drain bound, plus the body limit and one read's worth of slack (chunk framing included).
      expect(read, path).toBeGreaterThan(MAX_DRAINED_BODY_BYTES);
      expect(read, path).toBeLessThan(MiB + MAX_DRAINED_BODY_BYTES + MiB);
    }
  });

  it('does not read a body whose declared length is beyond the bound: 413 and Connection: close', async () => {
    let outcome: Outcome | undefined;
    const [read] = await serverBytesRead(async () => {
      outcome = await postWithNodeHttp(t.baseUrl, '/v1/oauth/tokens', { size: 200 * MiB, chunked: false });
    });
    // node:http reads the answer while it uploads: it has the 413, then the connection goes.
    if (outcome?.kind === 'response') {
      expectPayloadTooLarge(outcome, 'declared 200 MiB');
      expect(outcome.headers.connection).toBe('close');
    }
    expect(read).toBeLessThan(MAX_DRAINED_BODY_BYTES);
  });

  it(`stops waiting for a body still trickling in after ${MAX_DRAIN_MS / 1000} s`, async () => {
    const socket = connect({ host: '127.0.0.1', port: Number(new URL(t.baseUrl).port) });
    const started = Date.now();
    let received = '';
    socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.on('error', () => {});
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
    const big = Buffer.alloc(2 * MiB, 'a');
    socket.write(
      'POST /v1/oauth/tokens HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n' +
        `transfer-encoding: chunked\r\n\r\n${big.length.toString(16)}\r\n`,
    );
    socket.write(big);
    socket.write('\r\n');
    const trickle = setInterval(() => socket.write('1\r\na\r\n'), 250);
    await closed;
    clearInterval(trickle);
    const elapsed = Date.now() - started;
    expect(received).toMatch(/^HTTP\/1\.1 413 /);
    expect(elapsed).toBeGreaterThanOrEqual(MAX_DRAIN_MS - 500);
    expect(elapsed).toBeLessThan(MAX_DRAIN_MS + 5_000);
  }, 30_000);
});
