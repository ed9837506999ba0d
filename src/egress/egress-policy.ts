/**
 * Which outbound destinations Kassa may talk to.
 *
 * Rules (docs/webhooks.md, OWASP SSRF "case 2"):
 * - only `http:` and `https:`; URLs carrying a user name or password are refused;
 * - every address a request may connect to must be 'public', except that development mode also allows
 *   loopback (a shop on the developer's machine receives its callbacks) and the operator allow-list
 *   allows anything it names, in either mode;
 * - private, link-local, CGNAT, multicast, … are refused in both modes unless allow-listed.
 *
 * Allow-list entries are exact host names (case-insensitive, optionally `host:port`), IP literals
 * (optionally `ip:port` / `[ipv6]:port`) or CIDRs in strict notation (`10.0.0.0/8`, `fd00::/8`).
 * A host-name entry trusts whatever that name resolves to: the operator vouches for the name.
 */
import ipaddr from 'ipaddr.js';
import { classifyAddress, parseHost } from './address-classifier.ts';
import type { AddressClass, IPAddress } from './address-classifier.ts';
import { createBoundedCache } from '../lib/bounded-cache.ts';

export type EgressMode = 'development' | 'production';
export type EgressPolicy = { mode: EgressMode; allowList: string[] };

type AllowedHost = { name: string; port: number | null };
type AllowedNetwork = { network: IPAddress; prefixLength: number; port: number | null };

/** A policy with its allow-list parsed once; build it at startup so a bad entry fails loudly there. */
export type CompiledEgressPolicy = {
  mode: EgressMode;
  hosts: readonly AllowedHost[];
  networks: readonly AllowedNetwork[];
};

/** Where a request goes: the URL's hostname (as `URL.hostname` gives it) and its effective port. */
export type Destination = { hostname: string; port: number };

export function compileEgressPolicy(policy: EgressPolicy): CompiledEgressPolicy {
  const hosts: AllowedHost[] = [];
  const networks: AllowedNetwork[] = [];
  for (const raw of policy.allowList) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry.includes('/')) {
      networks.push({ ...parseStrictCidr(entry), port: null });
      continue;
    }
    if (ipaddr.IPv6.isValid(entry)) {
      networks.push({ network: ipaddr.IPv6.parse(entry), prefixLength: 128, port: null }); // bare `::1`
      continue;
    }
    const match = /^(\[[^\]]+\]|[^:[\]/@?#\s]+)(?::(\d{1,5}))?$/.exec(entry);
    const port = match?.[2] === undefined ? null : Number(match[2]);
    if (!match?.[1] || (port !== null && (port < 1 || port > 65_535))) throw invalidEntry(raw);
    const host = parseHost(normalizeHostname(match[1]) ?? '');
    if (host.type === 'invalid') throw invalidEntry(raw);
    if (host.type === 'ip') {
      networks.push({ network: host.address, prefixLength: host.address.kind() === 'ipv4' ? 32 : 128, port });
    } else {
      hosts.push({ name: host.name, port });
    }
  }
  return { mode: policy.mode, hosts, networks };
}

/**
 * Build a policy from configuration-like input (e.g. `KASSA_EGRESS_MODE`, `KASSA_EGRESS_ALLOW`).
 * Mode defaults to production (fail closed); the allow-list may be comma- or space-separated.
 */
export function parseEgressPolicy(input: {
  mode?: string | undefined;
  allowList?: string | readonly string[] | undefined;
}): EgressPolicy {
  const mode = input.mode?.trim() || 'production';
  if (mode !== 'development' && mode !== 'production') {
    throw new Error(`Egress mode must be "development" or "production", got "${mode}"`);
  }
  const list =
    typeof input.allowList === 'string' ? input.allowList.split(/[\s,]+/) : (input.allowList ?? []);
  const policy: EgressPolicy = { mode, allowList: list.map((e) => e.trim()).filter((e) => e !== '') };
  compileEgressPolicy(policy); // validate now
  return policy;
}

/** True when an allow-list host-name entry covers this destination (then any resolved address is fine). */
export function isHostAllowListed(policy: CompiledEgressPolicy, destination: Destination): boolean {
  const host = parseHost(destination.hostname);
  if (host.type !== 'name') return false;
  return policy.hosts.some((h) => h.name === host.name && (h.port === null || h.port === destination.port));
}

/** The decision for one address a request would connect to. */
export function isAddressAllowed(
  policy: CompiledEgressPolicy,
  destination: Destination,
  address: IPAddress,
): boolean {
  if (isHostAllowListed(policy, destination)) return true;
  const addressClass = classifyAddress(address);
  if (addressClass === 'public') return true;
  if (addressClass === 'loopback' && policy.mode === 'development') return true;
  // An IPv4-mapped IPv6 address is the IPv4 host to the socket layer, so IPv4 CIDRs cover it too.
  const candidates: IPAddress[] = [address];
  if (address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()) {
    candidates.push((address as ipaddr.IPv6).toIPv4Address());
  }
  return policy.networks.some(
    (n) =>
      (n.port === null || n.port === destination.port) &&
      candidates.some((c) => c.kind() === n.network.kind() && c.match(n.network, n.prefixLength)),
  );
}

export type EgressRefusalCode =
  'invalid_url' | 'unsupported_scheme' | 'credentials_in_url' | 'address_not_allowed';
export type EgressRefusal = { code: EgressRefusalCode; message: string; addressClass?: AddressClass };

export type InspectedUrl =
  | { ok: true; url: URL; destination: Destination; address: IPAddress | null }
  | { ok: false; refusal: EgressRefusal };

// RFC 6761 §6.3: these names are loopback whatever DNS says, so judge them before any lookup.
const LOOPBACK_NAME = /^(?:.+\.)?localhost$/;
const LOOPBACK_V4 = ipaddr.IPv4.parse('127.0.0.1');

/**
 * Everything that can be decided without DNS: syntax, scheme, credentials, and literal IP hosts in
 * every notation. `address` is the literal IP when the host is one (it will not go through DNS).
 */
export function inspectOutboundUrl(input: string | URL, policy: CompiledEgressPolicy): InspectedUrl {
  let url: URL;
  try {
    // Re-parse even a URL object: the WHATWG parser is the single normaliser of hosts.
    url = new URL(String(input));
  } catch {
    return refuse('invalid_url', 'The URL is not valid');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return refuse('unsupported_scheme', 'The URL must use http or https');
  }
  if (url.username !== '' || url.password !== '') {
    return refuse('credentials_in_url', 'The URL must not contain a user name or password');
  }
  const destination: Destination = {
    hostname: url.hostname,
    port: url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port),
  };
  const host = parseHost(url.hostname);
  if (host.type === 'invalid') return refuse('invalid_url', 'The URL host is not valid');
  const literal = host.type === 'ip' ? host.address : null;
  const judged = literal ?? (LOOPBACK_NAME.test(host.type === 'name' ? host.name : '') ? LOOPBACK_V4 : null);
  if (judged && !isAddressAllowed(policy, destination, judged)) {
    const addressClass = classifyAddress(judged);
    return {
      ok: false,
      refusal: {
        code: 'address_not_allowed',
        message: `The URL points to an address that is not allowed (${addressClass})`,
        addressClass,
      },
    };
  }
  return { ok: true, url, destination, address: literal };
}

/** What a request needs of a URL `inspectOutboundUrl` let through. */
export type ApprovedTarget = { origin: string; path: string; scheme: string; hostname: string; port: number };
export type InspectedTarget = { ok: true; target: ApprovedTarget } | { ok: false; refusal: EgressRefusal };

const INSPECTED_TARGET_ENTRIES = 1_000;

/** `inspectOutboundUrl`, with what a request needs of a URL it lets through. */
function inspectTarget(input: string | URL, policy: CompiledEgressPolicy): InspectedTarget {
  const inspected = inspectOutboundUrl(input, policy);
  if (!inspected.ok) return inspected;
  const { url, destination } = inspected;
  return {
    ok: true,
    target: {
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      scheme: url.protocol.slice(0, -1),
      hostname: url.hostname,
      port: destination.port,
    },
  };
}

/**
 * `inspectOutboundUrl` for one client's requests, remembering the verdict on each URL string. The inspection
 * is pure (no DNS: the addresses a name resolves to are checked on every connection, by the egress client's
 * guarded connector) and the policy is fixed, so a string's verdict never changes; a webhook drain sends
 * every delivery of an endpoint to one URL.
 */
export function createTargetInspector(
  policy: CompiledEgressPolicy,
): (input: string | URL) => InspectedTarget {
  const inspectString = createBoundedCache(INSPECTED_TARGET_ENTRIES, (url) => inspectTarget(url, policy));
  return (input) => (typeof input === 'string' ? inspectString(input) : inspectTarget(input, policy));
}

/**
 * Registration-time validation of a merchant URL (no DNS). Returns why it is refused, or null.
 * Names that are not literals are checked again after resolution on every send.
 */
export function checkOutboundUrl(
  url: string | URL,
  policy: EgressPolicy | CompiledEgressPolicy,
): EgressRefusal | null {
  const compiled = 'networks' in policy ? policy : compileEgressPolicy(policy);
  const inspected = inspectOutboundUrl(url, compiled);
  return inspected.ok ? null : inspected.refusal;
}

function refuse(code: EgressRefusalCode, message: string): InspectedUrl {
  return { ok: false, refusal: { code, message } };
}

function normalizeHostname(host: string): string | null {
  try {
    return new URL(`http://${host}/`).hostname; // same IDNA / IPv4 normalisation as request URLs
  } catch {
    return null;
  }
}

function parseStrictCidr(entry: string): Omit<AllowedNetwork, 'port'> {
  // Strict forms only: ipaddr.js would read `10/8` as 0.0.0.10/8, silently allowing 0.0.0.0/8.
  if (!ipaddr.IPv4.isValidCIDRFourPartDecimal(entry) && !ipaddr.IPv6.isValidCIDR(entry)) {
    throw invalidEntry(entry);
  }
  const [network, prefixLength] = ipaddr.parseCIDR(entry);
  return { network, prefixLength };
}

function invalidEntry(entry: string): Error {
  return new Error(`Invalid egress allow-list entry "${entry}": use a host name, host:port, an IP or a CIDR`);
}

/**
 * Whether a response from `url` may be shown to anyone (the shopper, the order timeline), given the
 * addresses its host resolved to. Development lets requests reach loopback so a shop on the developer's
 * machine receives its callbacks — but showing what came back would let any merchant read local services
 * (an admin page on 127.0.0.1:8080) through Kassa. So a body is disclosed only when production (same
 * allow-list) would also have let the request through, or when the target is Kassa itself (`ownOrigin`:
 * the public URL's origin — the demo shop's callbacks; anyone may read Kassa's own pages directly).
 */
export function mayDiscloseResponse(
  policy: CompiledEgressPolicy,
  url: string | URL,
  resolvedAddresses: readonly IPAddress[],
  ownOrigin: string,
): boolean {
  let parsed: URL;
  try {
    parsed = new URL(String(url));
  } catch {
    return false;
  }
  if (parsed.origin === new URL(ownOrigin).origin) return true;
  const production: CompiledEgressPolicy = { ...policy, mode: 'production' };
  const inspected = inspectOutboundUrl(parsed, production);
  if (!inspected.ok) return false;
  if (inspected.address) return true; // a literal address production allows
  if (isHostAllowListed(production, inspected.destination)) return true;
  return (
    resolvedAddresses.length > 0 &&
    resolvedAddresses.every((address) => isAddressAllowed(production, inspected.destination, address))
  );
}
