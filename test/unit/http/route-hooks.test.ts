import Fastify, { type FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { addRouteHook } from '../../../src/http/plugins/route-hooks.ts';

describe('addRouteHook', () => {
  it("runs the hooks added for a route in order, before the route's own, once per request, HEAD included", async () => {
    const app = Fastify();
    const ran: string[] = [];
    const record =
      (name: string) => (request: FastifyRequest, _reply: unknown, done: (error?: Error) => void) => {
        ran.push(`${request.method} ${name}`);
        done();
      };
    app.addHook('onRoute', (route) => {
      if (route.url === '/guarded') addRouteHook(route, 'onRequest', record('first'));
    });
    app.addHook('onRoute', (route) => {
      if (route.url === '/guarded') addRouteHook(route, 'onRequest', record('second'));
    });
    app.get('/guarded', { onRequest: [record('own')] }, async () => 'ok');
    app.get('/open', async () => 'ok');

    expect((await app.inject({ url: '/guarded' })).statusCode).toBe(200);
    expect(ran).toEqual(['GET first', 'GET second', 'GET own']);
    ran.length = 0;
    expect((await app.inject({ method: 'HEAD', url: '/guarded' })).statusCode).toBe(200);
    expect(ran).toEqual(['HEAD first', 'HEAD second', 'HEAD own']);
    ran.length = 0;
    expect((await app.inject({ url: '/open' })).statusCode).toBe(200);
    expect(ran).toEqual([]);
    await app.close();
  });
});
