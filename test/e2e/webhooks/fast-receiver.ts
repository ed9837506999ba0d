import { Worker } from 'node:worker_threads';

/**
 * A minimal receiver in its own thread (answers 200 to everything and counts), so the gateway's event loop
 * does not also pay for the receiving side when throughput is measured.
 */
const SOURCE = `
const http = require('node:http');
const { parentPort } = require('node:worker_threads');
let count = 0;
const ids = new Set();
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    count += 1;
    ids.add(req.headers['webhook-id']);
    res.writeHead(200, { 'content-length': '2' });
    res.end('ok');
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => parentPort.postMessage({ port: server.address().port }));
parentPort.on('message', (message) => {
  if (message === 'count') parentPort.postMessage({ count, unique: ids.size });
  if (message === 'close') { server.closeAllConnections(); server.close(() => parentPort.postMessage({ closed: true })); }
});
`;

export type FastReceiver = {
  url: string;
  counts(): Promise<{ count: number; unique: number }>;
  close(): Promise<void>;
};

export async function startFastReceiver(): Promise<FastReceiver> {
  const worker = new Worker(SOURCE, { eval: true });
  const next = <T>() => new Promise<T>((resolve) => worker.once('message', resolve));
  const { port } = await next<{ port: number }>();
  return {
    url: `http://127.0.0.1:${port}`,
    async counts() {
      const reply = next<{ count: number; unique: number }>();
      worker.postMessage('count');
      return reply;
    },
    async close() {
      const reply = next();
      worker.postMessage('close');
      await reply;
      await worker.terminate();
    },
  };
}
