/**
 * The egress client against real HTTP receivers on 127.0.0.1. Traffic only ever goes to loopback:
 * host names are resolved by injected resolvers, never by real DNS, and every non-loopback address used
 * below is refused before a socket is created (or placed after a loopback address that would take the
 * connection first if the guard were broken).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EgressError, compileEgressPolicy, createEgressClient } from '../../../src/egress/index.ts';
import type {
  EgressClient,
  EgressClientOptions,
  EgressPolicy,
  ResolveHostname,
} from '../../../src/egress/index.ts';
import { createGuardedConnector, createGuardedLookup } from '../../../src/egress/egress-client.ts';

type Receiver = {
  port: number;
  /** Requests that reached the handler, and TCP connections accepted (both must stay 0 when refused). */
  requests: { method: string; url: string; headers: http.IncomingHttpHeaders; body: string }[];
  connections: number;
  close(): Promise<void>;
};

const receivers: Receiver[] = [];
const clients: EgressClient[] = [];

async function startReceiver(
  handler: (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void = (_req, res) =>
    res.end('ok'),
): Promise<Receiver> {
  const receiver: Receiver = { port: 0, requests: [], connections: 0, close: async () => {} };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      receiver.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', () => {
    receiver.connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.port = (server.address() as AddressInfo).port;
  receiver.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  receivers.push(receiver);
  return receiver;
}

/** A resolver from a fixed table that records every name it was asked about. */
function tableResolver(table: Record<string, string[]>): ResolveHostname & { calls: string[] } {
  const calls: string[] = [];
  const resolve = async (hostname: string) => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`no such host ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolve, { calls });
}

function client(policy: EgressPolicy, options: Partial<EgressClientOptions> = {}): EgressClient {
  // Default resolver refuses to answer so that no test can fall back to real DNS by accident.
  const created = createEgressClient({ policy, resolve: tableResolver({}), ...options });
  clients.push(created);
  return created;
}

async function expectEgressError(promise: Promise<unknown>, kind: string): Promise<EgressError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(EgressError);
  expect((error as EgressError).kind).toBe(kind);
  return error as EgressError;
}

const production: EgressPolicy = { mode: 'production', allowList: [] };
const development: EgressPolicy = { mode: 'development', allowList: [] };

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

describe('production refuses loopback in every spelling, before any connection', () => {
  let receiver: Receiver;
  beforeAll(async () => {
    receiver = await startReceiver();
    receivers.splice(receivers.indexOf(receiver), 1); // shared by this block; closed in afterAll
  });
  afterAll(() => receiver.close());

  it.each([
    (port: number) => `http://127.0.0.1:${port}/hook`,
    (port: number) => `http://localhost:${port}/hook`,
    (port: number) => `http://[::ffff:127.0.0.1]:${port}/hook`,
    (port: number) => `http://2130706433:${port}/hook`,
    (port: number) => `http://0x7f.1:${port}/hook`,
    (port: number) => `http://0177.0.0.1:${port}/hook`,
    (port: number) => `http://127.1:${port}/hook`,
  ])('%#', async (spell) => {
    const resolve = tableResolver({ localhost: ['127.0.0.1'] });
    const egress = client(production, { resolve });
    const url = spell(receiver.port);
    const error = await expectEgressError(
      egress.request({ url, method: 'POST', body: 'x' }),
      'blocked_address',
    );
    expect(error.addressClass).toBe('loopback');
    expect(error.origin).toBe(new URL(url).origin);
    expect(receiver.requests).toHaveLength(0);
    expect(receiver.connections).toBe(0);
  });
});

describe('allowed loopback delivery', () => {
  it('production with 127.0.0.1/32 allow-listed delivers', async () => {
    const receiver = await startReceiver();
    const egress = client({ mode: 'production', allowList: ['127.0.0.1/32'] });
    const response = await egress.request({ url: `http://127.0.0.1:${receiver.port}/a`, method: 'GET' });
    expect(response.status).toBe(200);
    expect(response.body.toString()).toBe('ok');
    expect(receiver.requests).toHaveLength(1);
  });

  it('production with host:port allow-listed delivers to that port only', async () => {
    const receiver = await startReceiver();
    const other = await startReceiver();
    const egress = client({ mode: 'production', allowList: [`127.0.0.1:${receiver.port}`] });
    expect((await egress.request({ url: `http://127.0.0.1:${receiver.port}/`, method: 'GET' })).status).toBe(
      200,
    );
    await expectEgressError(
      egress.request({ url: `http://127.0.0.1:${other.port}/`, method: 'GET' }),
      'blocked_address',
    );
    expect(other.connections).toBe(0);
  });

  it('development delivers to loopback, POST body and headers intact', async () => {
    const receiver = await startReceiver((req, res, body) => {
      res.setHeader('content-type', 'text/html; charset=utf-8');
      res.end(`<p>${req.method} ${body}</p>`);
    });
    const egress = client(development);
    const response = await egress.request({
      url: `http://127.0.0.1:${receiver.port}/callback?order=42`,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', 'X-Kassa-Test': 'yes' },
      body: 'status=succeeded&amount=1000',
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body.toString()).toBe('<p>POST status=succeeded&amount=1000</p>');
    expect(response.truncated).toBe(false);
    expect(response.durationMs).toBeGreaterThanOrEqual(0);
    const [seen] = receiver.requests;
    expect(seen?.url).toBe('/callback?order=42');
    expect(seen?.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen?.headers['x-kassa-test']).toBe('yes');
    expect(seen?.headers['user-agent']).toBe('Kassa/0.1 (+webhooks)');
  });
});

describe('redirects', () => {
  it('returns a 302 as is and never contacts the Location target', async () => {
    const target = await startReceiver();
    const redirector = await startReceiver((_req, res) => {
      res.writeHead(302, { location: `http://127.0.0.1:${target.port}/elsewhere` });
      res.end();
    });
    const egress = client(development);
    const response = await egress.request({
      url: `http://127.0.0.1:${redirector.port}/`,
      method: 'POST',
      body: 'a',
    });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`http://127.0.0.1:${target.port}/elsewhere`);
    expect(redirector.requests).toHaveLength(1);
    expect(target.requests).toHaveLength(0);
    expect(target.connections).toBe(0);
  });
});

describe('response size cap', () => {
  it('truncates at maxResponseBytes and says so', async () => {
    const big = Buffer.alloc(1024 * 1024, 'a');
    big.write('HEAD', 0);
    const receiver = await startReceiver((_req, res) => res.end(big));
    const egress = client(development, { maxResponseBytes: 1000 });
    const response = await egress.request({ url: `http://127.0.0.1:${receiver.port}/`, method: 'GET' });
    expect(response.truncated).toBe(true);
    expect(response.body.length).toBe(1000);
    expect(response.body.equals(big.subarray(0, 1000))).toBe(true);
  });

  it('a body of exactly the cap is not truncated; a per-request cap overrides the default', async () => {
    const receiver = await startReceiver((_req, res) => res.end('x'.repeat(64)));
    const egress = client(development, { maxResponseBytes: 64 });
    const exact = await egress.request({ url: `http://127.0.0.1:${receiver.port}/`, method: 'GET' });
    expect(exact.truncated).toBe(false);
    expect(exact.body.length).toBe(64);
    const smaller = await egress.request({
      url: `http://127.0.0.1:${receiver.port}/`,
      method: 'GET',
      maxResponseBytes: 10,
    });
    expect(smaller.truncated).toBe(true);
    expect(smaller.body.toString()).toBe('x'.repeat(10));
  });

  it('stops reading an endless body instead of buffering it', async () => {
    const receiver = await startReceiver((_req, res) => {
      const chunk = Buffer.alloc(16 * 1024, 'z');
      const pump = () => {
        while (!res.destroyed && res.write(chunk));
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const egress = client(development, { maxResponseBytes: 100_000, responseTimeoutMs: 5_000 });
    const response = await egress.request({ url: `http://127.0.0.1:${receiver.port}/`, method: 'GET' });
    expect(response.truncated).toBe(true);
    expect(response.body.length).toBe(100_000);
  });
});

describe('timeouts and failures', () => {
  it('a receiver that never answers ends in response_timeout at the configured deadline', async () => {
    const receiver = await startReceiver(() => {
      /* never answer */
    });
    const egress = client(development, { responseTimeoutMs: 300 });
    const started = performance.now();
    const error = await expectEgressError(
      egress.request({ url: `http://127.0.0.1:${receiver.port}/slow`, method: 'POST', body: '{}' }),
      'response_timeout',
    );
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3_000);
    expect(error.message).not.toMatch(/\n\s+at /); // a fixed sentence, no stack
    expect(receiver.requests).toHaveLength(1);
  });

  it('a body that stalls half-way also hits the deadline', async () => {
    const receiver = await startReceiver((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    const egress = client(development, { responseTimeoutMs: 300 });
    await expectEgressError(
      egress.request({ url: `http://127.0.0.1:${receiver.port}/`, method: 'GET' }),
      'response_timeout',
    );
  });

  it('a closed port is connection_failed', async () => {
    const receiver = await startReceiver();
    const port = receiver.port;
    await receiver.close();
    const egress = client(development);
    const error = await expectEgressError(
      egress.request({ url: `http://127.0.0.1:${port}/`, method: 'GET' }),
      'connection_failed',
    );
    expect(error.message).toBe('The connection failed (ECONNREFUSED)');
  });

  it('https to a plain-http receiver is tls_failure', async () => {
    const receiver = await startReceiver();
    const egress = client(development);
    await expectEgressError(
      egress.request({ url: `https://127.0.0.1:${receiver.port}/`, method: 'GET' }),
      'tls_failure',
    );
    expect(receiver.requests).toHaveLength(0);
  });

  it('unsupported schemes and credentials are blocked_url; the error serialises without a stack', async () => {
    const egress = client(development);
    const schemeError = await expectEgressError(
      egress.request({ url: 'file:///etc/passwd', method: 'GET' }),
      'blocked_url',
    );
    expect(schemeError.origin).toBeNull();
    const credentialError = await expectEgressError(
      egress.request({ url: 'http://user:pw@127.0.0.1:1/', method: 'GET' }),
      'blocked_url',
    );
    expect(JSON.parse(JSON.stringify(credentialError))).toEqual({
      name: 'EgressError',
      kind: 'blocked_url',
      message: 'The URL must not contain a user name or password',
      origin: 'http://127.0.0.1:1',
    });
  });

  it('an unresolvable name is dns_failure', async () => {
    const egress = client(development, { resolve: tableResolver({}) });
    await expectEgressError(egress.request({ url: 'http://nowhere.example/', method: 'GET' }), 'dns_failure');
  });
});

describe('host names go through the guarded resolver', () => {
  it('shop.example → 127.0.0.1 is delivered in development', async () => {
    const receiver = await startReceiver();
    const resolve = tableResolver({ 'shop.example': ['127.0.0.1'] });
    const egress = client(development, { resolve });
    const response = await egress.request({ url: `http://shop.example:${receiver.port}/cb`, method: 'GET' });
    expect(response.status).toBe(200);
    expect(resolve.calls).toContain('shop.example');
    expect(receiver.requests[0]?.headers.host).toBe(`shop.example:${receiver.port}`);
  });

  it('shop.example → 127.0.0.1 is refused in production, after resolution and before connecting', async () => {
    const receiver = await startReceiver();
    const resolve = tableResolver({ 'shop.example': ['127.0.0.1'] });
    const egress = client(production, { resolve });
    const error = await expectEgressError(
      egress.request({ url: `http://shop.example:${receiver.port}/cb`, method: 'GET' }),
      'blocked_address',
    );
    expect(error.addressClass).toBe('loopback');
    expect(resolve.calls).toEqual(['shop.example']); // refused on the resolved address, not the name
    expect(receiver.connections).toBe(0);
  });

  it('an allow-listed host name is delivered in production whatever it resolves to', async () => {
    const receiver = await startReceiver();
    const resolve = tableResolver({ 'shop.example': ['127.0.0.1'] });
    const egress = client({ mode: 'production', allowList: ['SHOP.example'] }, { resolve });
    expect(
      (await egress.request({ url: `http://shop.example:${receiver.port}/`, method: 'GET' })).status,
    ).toBe(200);
  });

  it('a mixed answer with one refused address is refused as a whole (loopback first: a broken guard would hit the receiver)', async () => {
    const receiver = await startReceiver();
    const resolve = tableResolver({ 'shop.example': ['127.0.0.1', '93.184.216.34', '10.0.0.1'] });
    const egress = client(development, { resolve });
    const error = await expectEgressError(
      egress.request({ url: `http://shop.example:${receiver.port}/`, method: 'GET' }),
      'blocked_address',
    );
    expect(error.addressClass).toBe('private');
    expect(receiver.connections).toBe(0);
  });

  it('the lookup hook refuses a public + private answer without handing any address to the socket', async () => {
    const policy = compileEgressPolicy(production);
    const resolve = tableResolver({ 'shop.example': ['93.184.216.34', '10.0.0.1'] });
    const lookup = createGuardedLookup(
      policy,
      { hostname: 'shop.example', port: 443 },
      resolve,
      'https://shop.example',
    );
    for (const all of [true, false]) {
      const [error, address] = await new Promise<[unknown, unknown]>((done) =>
        lookup('shop.example', { all }, (err, addr) => done([err, addr])),
      );
      expect(error).toBeInstanceOf(EgressError);
      expect((error as EgressError).kind).toBe('blocked_address');
      expect((error as EgressError).addressClass).toBe('private');
      expect(address === '' || (Array.isArray(address) && address.length === 0)).toBe(true);
    }
    // The same lookup with an all-public answer does hand the addresses over.
    const publicLookup = createGuardedLookup(
      policy,
      { hostname: 'shop.example', port: 443 },
      tableResolver({ 'shop.example': ['93.184.216.34', '2606:2800:220:1::1'] }),
      'https://shop.example',
    );
    const answer = await new Promise<unknown>((done) =>
      publicLookup('shop.example', { all: true }, (_e, a) => done(a)),
    );
    expect(answer).toEqual([
      { address: '93.184.216.34', family: 4 },
      { address: '2606:2800:220:1::1', family: 6 },
    ]);
  });

  it('the connector itself refuses a literal IP that lookup never sees', async () => {
    const receiver = await startReceiver();
    const connect = createGuardedConnector(
      compileEgressPolicy(production),
      `http://127.0.0.1:${receiver.port}`,
      tableResolver({}),
      1_000,
    );
    const error = await new Promise<unknown>((done) =>
      connect({ hostname: '127.0.0.1', protocol: 'http:', port: String(receiver.port) }, (...args) =>
        done(args[0]),
      ),
    );
    expect(error).toBeInstanceOf(EgressError);
    expect((error as EgressError).kind).toBe('blocked_address');
    expect(receiver.connections).toBe(0);
  });
});

describe('connection pooling', () => {
  it('reuses a kept-alive connection for sequential requests to one origin', async () => {
    const receiver = await startReceiver();
    const egress = client(development);
    for (let i = 0; i < 20; i += 1) {
      await egress.request({
        url: `http://127.0.0.1:${receiver.port}/${i}`,
        method: 'POST',
        body: String(i),
      });
    }
    expect(receiver.requests).toHaveLength(20);
    // undici may open a second socket while the first is being released; never one per request.
    expect(receiver.connections).toBeLessThanOrEqual(2);
  });

  it('bounds concurrent connections per origin and completes a burst', async () => {
    const receiver = await startReceiver();
    const egress = client(development, { maxConnectionsPerOrigin: 8 });
    const results = await Promise.all(
      Array.from({ length: 400 }, (_, i) =>
        egress.request({ url: `http://127.0.0.1:${receiver.port}/${i}`, method: 'POST', body: String(i) }),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(receiver.requests).toHaveLength(400);
    expect(receiver.connections).toBeLessThanOrEqual(8);
  });
});
