/**
 * The one outbound HTTP client (webhooks, callbacks, proxied resources), built on an undici `Agent`.
 *
 * Where the policy is enforced, and why in three places:
 * 1. `request()` inspects the URL first (scheme, credentials, literal IPs in every notation), so a
 *    refused literal never reaches undici.
 * 2. Each origin's pool gets its own connector. Its `lookup` resolves ALL A and AAAA records and fails
 *    the connection if ANY of them is refused, before a socket connects anywhere. Checking the addresses
 *    handed to the socket — not an earlier, separate lookup — is what makes DNS rebinding useless.
 *    Literal IPs skip `lookup` inside `net.connect`, so the connector checks them itself too.
 * 3. After connecting, the socket's actual remote address is checked once more (defence in depth).
 *
 * Redirects are never followed (a 3xx is returned as is, Location included); bodies are read up to a
 * cap and the rest is discarded with the connection; one deadline covers the whole exchange.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { Agent, Pool, buildConnector } from 'undici';
import type { Dispatcher } from 'undici';
import { currentTrace, formatTraceparent } from '../metrics/trace-context.ts';
import type { StartedSpan } from '../metrics/tracing.ts';
import { classifyAddress, parseIpAddress } from './address-classifier.ts';
import type { AddressClass, IPAddress } from './address-classifier.ts';
import { compileEgressPolicy, createTargetInspector, isAddressAllowed } from './egress-policy.ts';
import type { CompiledEgressPolicy, Destination, EgressPolicy } from './egress-policy.ts';

export type ResolvedAddress = { address: string; family: number };
/** Resolves a host name to every address it has (A and AAAA). Injected in tests: no real DNS there. */
export type ResolveHostname = (hostname: string) => Promise<ResolvedAddress[]>;

export type EgressClientOptions = {
  policy: EgressPolicy | CompiledEgressPolicy;
  /** TCP (+TLS) connect timeout per connection. Default 7 s (docs/callbacks.md). */
  connectTimeoutMs?: number;
  /** Deadline for the whole exchange, from the call to the last body byte. Default 28 s (docs/callbacks.md). */
  responseTimeoutMs?: number;
  /** Response body cap; more is not read. Default 256 KiB. */
  maxResponseBytes?: number;
  userAgent?: string;
  resolve?: ResolveHostname;
  /** Keep-alive connections per origin. Default 64. */
  maxConnectionsPerOrigin?: number;
  /** What the requests are for (`webhook`, `callback`, `processor`): names their spans when tracing is on. */
  purpose?: string;
};

export type EgressRequest = {
  url: string | URL;
  method: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | Buffer;
  maxResponseBytes?: number;
};

export type EgressResponse = {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  body: Buffer;
  /** True when the body was longer than the cap and only its first `maxResponseBytes` were read. */
  truncated: boolean;
  durationMs: number;
};

export type EgressClient = {
  request(req: EgressRequest): Promise<EgressResponse>;
  /** Waits for in-flight requests, then closes every pooled connection. */
  close(): Promise<void>;
};

export type EgressErrorKind =
  | 'blocked_url'
  | 'blocked_address'
  | 'dns_failure'
  | 'connect_timeout'
  | 'connection_failed'
  | 'tls_failure'
  | 'response_timeout'
  | 'protocol_error'
  | 'invalid_request';

/**
 * Every failure of an outbound request. `message` is safe to store and show to the merchant (a fixed
 * sentence, at most an error code appended); the underlying error stays in `cause` for operators.
 */
export class EgressError extends Error {
  override readonly name = 'EgressError';
  readonly kind: EgressErrorKind;
  /** The target URL's origin, or null when the URL could not be parsed. */
  readonly origin: string | null;
  /** For 'blocked_address': the class of the refused address. */
  readonly addressClass: AddressClass | undefined;

  constructor(
    kind: EgressErrorKind,
    message: string,
    origin: string | null,
    options: { cause?: unknown; addressClass?: AddressClass } = {},
  ) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.origin = origin;
    this.addressClass = options.addressClass;
  }

  toJSON() {
    return { name: this.name, kind: this.kind, message: this.message, origin: this.origin };
  }
}

const DEFAULTS = {
  connectTimeoutMs: 7_000,
  responseTimeoutMs: 28_000,
  maxResponseBytes: 256 * 1024,
  userAgent: 'Kassa/0.1 (+webhooks)',
  maxConnectionsPerOrigin: 64,
};

export function resolveWithSystemDns(hostname: string): Promise<ResolvedAddress[]> {
  return dnsLookup(hostname, { all: true, verbatim: true });
}

export function createEgressClient(options: EgressClientOptions): EgressClient {
  const policy = 'networks' in options.policy ? options.policy : compileEgressPolicy(options.policy);
  const resolve = options.resolve ?? resolveWithSystemDns;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.connectTimeoutMs;
  const responseTimeoutMs = options.responseTimeoutMs ?? DEFAULTS.responseTimeoutMs;
  const defaultMaxBytes = options.maxResponseBytes ?? DEFAULTS.maxResponseBytes;
  const userAgent = options.userAgent ?? DEFAULTS.userAgent;
  const purpose = options.purpose ?? 'webhook';

  const agent = new Agent({
    connections: options.maxConnectionsPerOrigin ?? DEFAULTS.maxConnectionsPerOrigin,
    headersTimeout: responseTimeoutMs,
    bodyTimeout: responseTimeoutMs,
    // One pool per origin, each with a connector bound to that origin's host and port (the allow-list
    // may name a port, and `lookup` is never told the port).
    factory: (origin, poolOptions) =>
      new Pool(origin, {
        ...(poolOptions as Pool.Options),
        connect: createGuardedConnector(policy, String(origin), resolve, connectTimeoutMs),
      }),
  });

  const inspectTarget = createTargetInspector(policy);

  async function request(req: EgressRequest): Promise<EgressResponse> {
    const started = performance.now();
    const inspected = inspectTarget(req.url);
    if (!inspected.ok) {
      const { code, message, addressClass } = inspected.refusal;
      const kind = code === 'address_not_allowed' ? 'blocked_address' : 'blocked_url';
      throw new EgressError(kind, message, originOf(req.url), { addressClass });
    }
    const url = inspected.target;
    const maxBytes = req.maxResponseBytes ?? defaultMaxBytes;
    const headers: Record<string, string> = { 'user-agent': userAgent };
    // Work done for a request carries its W3C trace on (src/metrics/trace-context.ts); a caller's own wins.
    // With span export on, the request is a client span of its own and the header names that span.
    const trace = currentTrace();
    let span: StartedSpan | undefined;
    if (trace?.tracer) {
      span = trace.tracer.start(`${req.method} ${purpose}`, 'client', trace, {
        'http.request.method': req.method,
        'url.scheme': url.scheme,
        'server.address': url.hostname,
        'server.port': url.port,
        'kassa.egress.purpose': purpose,
      });
      headers.traceparent = formatTraceparent({ ...span, parentSpanId: undefined });
    } else if (trace) {
      headers.traceparent = formatTraceparent(trace);
    }
    for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value;

    const controller = new AbortController();
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, responseTimeoutMs);
    try {
      const response = await agent.request({
        origin: url.origin,
        path: url.path,
        method: req.method,
        headers,
        body: req.body ?? null,
        signal: controller.signal,
      });
      const { body, truncated } = await readCapped(response.body, maxBytes);
      span?.setAttributes({ 'http.response.status_code': response.statusCode });
      span?.end(response.statusCode >= 500 ? { error: `HTTP ${response.statusCode}` } : undefined);
      return {
        status: response.statusCode,
        headers: flattenHeaders(response.headers),
        body,
        truncated,
        durationMs: Math.round(performance.now() - started),
      };
    } catch (error) {
      const failure = toEgressError(error, url.origin, timedOut);
      span?.end({ error: `${failure.kind}: ${failure.message}` });
      throw failure;
    } finally {
      clearTimeout(deadline);
    }
  }

  return { request, close: () => agent.close() };
}

/**
 * A connector for one origin: guarded DNS, literal-IP gate, and a post-connect check of the peer.
 * Exported for tests that must prove a refusal happens before any socket connects.
 */
export function createGuardedConnector(
  policy: CompiledEgressPolicy,
  origin: string,
  resolve: ResolveHostname,
  connectTimeoutMs: number,
): buildConnector.connector {
  const originUrl = new URL(origin);
  const destination: Destination = {
    hostname: originUrl.hostname,
    port: originUrl.port === '' ? (originUrl.protocol === 'https:' ? 443 : 80) : Number(originUrl.port),
  };
  const connect = buildConnector({
    timeout: connectTimeoutMs,
    lookup: createGuardedLookup(policy, destination, resolve, origin),
  });
  return (connectOptions, callback) => {
    const literal = parseIpAddress(connectOptions.hostname);
    if (literal && !isAddressAllowed(policy, destination, literal)) {
      callback(blockedAddress(literal, origin), null);
      return;
    }
    connect(connectOptions, (error, socket) => {
      if (error || !socket) {
        callback(error ?? new Error('connect failed'), null);
        return;
      }
      const peer = socket.remoteAddress ? parseIpAddress(socket.remoteAddress) : null;
      if (!peer || !isAddressAllowed(policy, destination, peer)) {
        socket.destroy();
        callback(peer ? blockedAddress(peer, origin) : new Error('no remote address'), null);
        return;
      }
      callback(null, socket);
    });
  };
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `net.connect` lookup that resolves every address and refuses them all if any one is refused: a
 * name that mixes public and private records could otherwise be steered to the private one.
 */
export function createGuardedLookup(
  policy: CompiledEgressPolicy,
  destination: Destination,
  resolve: ResolveHostname,
  origin: string,
): (hostname: string, options: LookupOptions, callback: LookupCallback) => void {
  return (hostname, lookupOptions, callback) => {
    const fail = (error: EgressError) => callback(error, lookupOptions.all ? [] : '', 0);
    resolve(hostname).then(
      (records) => {
        if (records.length === 0) return fail(dnsFailure(origin));
        const checked: LookupAddress[] = [];
        for (const record of records) {
          const address = parseIpAddress(record.address);
          if (!address) return fail(dnsFailure(origin));
          if (!isAddressAllowed(policy, destination, address)) return fail(blockedAddress(address, origin));
          checked.push({ address: address.toString(), family: address.kind() === 'ipv4' ? 4 : 6 });
        }
        const wanted = familyNumber(lookupOptions.family);
        const usable = wanted === 0 ? checked : checked.filter((r) => r.family === wanted);
        const first = usable[0];
        if (!first) return fail(dnsFailure(origin));
        if (lookupOptions.all) callback(null, usable);
        else callback(null, first.address, first.family);
      },
      (error: unknown) => fail(dnsFailure(origin, error)),
    );
  };
}

function familyNumber(family: LookupOptions['family']): 0 | 4 | 6 {
  if (family === 4 || family === 'IPv4') return 4;
  if (family === 6 || family === 'IPv6') return 6;
  return 0;
}

function blockedAddress(address: IPAddress, origin: string): EgressError {
  const addressClass = classifyAddress(address);
  return new EgressError(
    'blocked_address',
    `The host resolves to an address that is not allowed (${addressClass})`,
    origin,
    { addressClass },
  );
}

function dnsFailure(origin: string, cause?: unknown): EgressError {
  return new EgressError('dns_failure', withCode('The host name could not be resolved', cause), origin, {
    cause,
  });
}

async function readCapped(
  body: Dispatcher.ResponseData['body'],
  maxBytes: number,
): Promise<{ body: Buffer; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    if (size + buffer.length > maxBytes) {
      chunks.push(buffer.subarray(0, maxBytes - size));
      // Stop here: destroying the body drops the connection instead of draining the rest into memory.
      body.destroy();
      return { body: Buffer.concat(chunks, maxBytes), truncated: true };
    }
    chunks.push(buffer);
    size += buffer.length;
  }
  return { body: Buffer.concat(chunks, size), truncated: false };
}

function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const flat: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) flat[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return flat;
}

function originOf(url: string | URL): string | null {
  try {
    const origin = new URL(String(url)).origin;
    return origin === 'null' ? null : origin;
  } catch {
    return null;
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : '';
}

/** Appends a machine error code (never a message or stack, which may carry internal detail). */
function withCode(message: string, error: unknown): string {
  const code = errorCode(error);
  return /^[A-Z0-9_]{2,64}$/.test(code) ? `${message} (${code})` : message;
}

const TLS_CODE = /^ERR_(TLS|SSL)_|CERT|SELF_SIGNED|_SIGNATURE$/;

function toEgressError(error: unknown, origin: string, timedOut: boolean): EgressError {
  if (error instanceof EgressError) return error;
  if (timedOut)
    return new EgressError('response_timeout', 'No complete answer in time', origin, { cause: error });
  const code = errorCode(error);
  const fail = (kind: EgressErrorKind, message: string) =>
    new EgressError(kind, withCode(message, error), origin, { cause: error });
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'ETIMEDOUT')
    return fail('connect_timeout', 'Connect timed out');
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return fail('response_timeout', 'No complete answer in time');
  }
  if (code === 'ENOTFOUND' || code.startsWith('EAI_'))
    return fail('dns_failure', 'The host name could not be resolved');
  if (TLS_CODE.test(code)) return fail('tls_failure', 'The TLS handshake failed');
  if (code.startsWith('HPE_') || code === 'UND_ERR_INFO')
    return fail('protocol_error', 'The answer is not valid HTTP');
  if (code === 'UND_ERR_INVALID_ARG' || code === 'UND_ERR_NOT_SUPPORTED') {
    return fail('invalid_request', 'The request could not be sent as built');
  }
  return fail('connection_failed', 'The connection failed');
}
