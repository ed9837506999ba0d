import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A merchant's webhook receiver on 127.0.0.1: records every request (headers, raw body, arrival time) and
 * answers with whatever `respond` says. Signature checks use the reference `standardwebhooks` library —
 * never our own code — so a test that passes proves a real receiver would accept the webhook.
 */

export type ReceivedWebhook = {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  receivedAt: number;
};

export type Reply = { status: number; headers?: Record<string, string>; body?: string; delayMs?: number };

export type WebhookReceiver = {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  respond: (request: ReceivedWebhook, index: number) => Reply;
  /** Resolves once `predicate` holds over the received list (checked on every arrival), or rejects after `timeoutMs`. */
  waitFor(predicate: (received: ReceivedWebhook[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
};

export async function startWebhookReceiver(respond: WebhookReceiver['respond'] = () => ({ status: 200 })) {
  const waiters = new Set<() => void>();
  const receiver: WebhookReceiver = {
    url: '',
    port: 0,
    received: [],
    respond,
    waitFor(predicate, timeoutMs = 10_000) {
      if (predicate(receiver.received)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (!predicate(receiver.received)) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(
            new Error(
              `receiver: condition not met within ${timeoutMs} ms (${receiver.received.length} received)`,
            ),
          );
        }, timeoutMs);
        waiters.add(check);
      });
    },
    close: async () => {},
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: ReceivedWebhook = {
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        receivedAt: performance.now(),
      };
      const index = receiver.received.push(request) - 1;
      const reply = receiver.respond(request, index);
      const send = () => {
        res.writeHead(reply.status, reply.headers ?? {});
        res.end(reply.body ?? '');
        for (const waiter of [...waiters]) waiter();
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs);
      else send();
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.url = `http://127.0.0.1:${receiver.port}`;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return receiver;
}

/** Verifies one received webhook with the reference library; throws WebhookVerificationError when it fails. */
export function verifyWebhook(secret: string, webhook: { headers: http.IncomingHttpHeaders; body: string }) {
  return new Webhook(secret).verify(webhook.body, {
    'webhook-id': String(webhook.headers['webhook-id']),
    'webhook-timestamp': String(webhook.headers['webhook-timestamp']),
    'webhook-signature': String(webhook.headers['webhook-signature']),
  });
}
