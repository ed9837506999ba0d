import { Worker } from 'node:worker_threads';

/**
 * The fast local webhook receiver: node:http on 127.0.0.1 that answers 200 at once, in its own thread so
 * receiving does not compete with the load generator's event loop. It counts deliveries per event type
 * (from the Standard Webhooks body `{type, …}`), unique `webhook-id`s, and when the first and the last
 * delivery of each type arrived (absolute milliseconds: timeOrigin + now, comparable across threads).
 */
const SOURCE = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
const byType = {};
const ids = new Set();
let total = 0;
const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    res.writeHead(200, { 'content-length': '2' });
    res.end('ok');
    total += 1;
    ids.add(req.headers['webhook-id']);
    let type = 'unparsable';
    try { type = JSON.parse(Buffer.concat(chunks).toString()).type ?? 'untyped'; } catch {}
    const now = performance.timeOrigin + performance.now();
    const entry = (byType[type] ??= { count: 0, first: now, last: now });
    entry.count += 1;
    entry.last = now;
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message === 'counts') parentPort.postMessage({ total, unique: ids.size, byType });
  if (message === 'close') { server.closeAllConnections(); server.close(() => parentPort.postMessage({ closed: true })); }
});
`;

export type ReceiverCounts = {
  total: number;
  unique: number;
  byType: Record<string, { count: number; first: number; last: number }>;
};

export type WebhookReceiver = {
  url: string;
  counts(): Promise<ReceiverCounts>;
  /** Polls until `done(counts)` or the deadline; returns the last counts. */
  waitFor(done: (counts: ReceiverCounts) => boolean, timeoutMs: number): Promise<ReceiverCounts>;
  close(): Promise<void>;
};

/** Absolute milliseconds on the same clock as the receiver's timestamps. */
export function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const worker = new Worker(SOURCE, { eval: true });
  const next = <T>() => new Promise<T>((resolve) => worker.once('message', resolve));
  const { port } = await next<{ port: number }>();
  async function counts() {
    const reply = next<ReceiverCounts>();
    worker.postMessage('counts');
    return reply;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    counts,
    async waitFor(done, timeoutMs) {
      const deadline = performance.now() + timeoutMs;
      let last = await counts();
      while (!done(last) && performance.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        last = await counts();
      }
      return last;
    },
    async close() {
      const reply = next();
      worker.postMessage('close');
      await reply;
      await worker.terminate();
    },
  };
}
