import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A tiny merchant store on 127.0.0.1 for the browser to land on after the payment page: it answers every GET
 * with a plain page and remembers the URLs it was sent to (not a test file itself).
 */
export type MerchantReceiver = {
  origin: string;
  completedUrl: string;
  canceledUrl: string;
  received: string[];
  close(): Promise<void>;
};

export async function startMerchantReceiver(): Promise<MerchantReceiver> {
  const received: string[] = [];
  const server: Server = createServer((request, response) => {
    received.push(request.url ?? '/');
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><html lang="en"><title>Shop</title><h1>Back at the shop</h1></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    completedUrl: `${origin}/complete?ref=browser`,
    canceledUrl: `${origin}/cancel`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
