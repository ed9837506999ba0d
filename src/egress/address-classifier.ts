/**
 * What kind of network an IP address belongs to, and how a URL host turns into an IP literal.
 *
 * Invariants:
 * - `classifyAddress` is total over valid addresses and returns one member of the closed `AddressClass`
 *   union; only 'public' is reachable from a production gateway without an operator allow-list entry.
 * - IPv6 forms that carry an IPv4 address the host stack or a translator will actually talk to
 *   (IPv4-mapped `::ffff:a.b.c.d`, IPv4-compatible `::a.b.c.d`, IPv4-translated `::ffff:0:a.b.c.d`,
 *   NAT64 `64:ff9b::a.b.c.d`) are classified by that embedded IPv4 address, so `[::ffff:127.0.0.1]` is
 *   loopback. 6to4 (`2002:aabb:ccdd::/48`) is refused when its embedded IPv4 is not public.
 * - IPv6 fails closed: only global unicast (2000::/3) minus special-purpose blocks is 'public';
 *   unallocated space is 'reserved'.
 * - Host parsing follows the WHATWG URL IPv4 parser (decimal, 0x hex, 0-prefixed octal, 1–4 parts, an
 *   optional trailing dot), because that is what `new URL()` and browsers do: `2130706433`, `0x7f.1`,
 *   `0177.0.0.1` and `127.1` are all 127.0.0.1. A host that "ends in a number" but is not a valid IPv4
 *   address is 'invalid' — never treated as a name to look up.
 */
import ipaddr from 'ipaddr.js';

export type IPAddress = ipaddr.IPv4 | ipaddr.IPv6;

export const ADDRESS_CLASSES = [
  'public',
  'unspecified',
  'loopback',
  'private',
  'link_local',
  'unique_local',
  'carrier_grade_nat',
  'multicast',
  'broadcast',
  'reserved',
] as const;
export type AddressClass = (typeof ADDRESS_CLASSES)[number];

type RangeRow = readonly [network: IPAddress, prefixLength: number, addressClass: AddressClass];

function row(cidr: string, addressClass: AddressClass): RangeRow {
  const [network, prefixLength] = ipaddr.parseCIDR(cidr);
  return [network, prefixLength, addressClass];
}

// First match wins; anything unmatched is public (IANA IPv4 special-purpose registry, non-global rows).
const IPV4_RANGES: readonly RangeRow[] = [
  row('0.0.0.0/8', 'unspecified'), // "this network"; 0.0.0.0 reaches the local host on Linux
  row('10.0.0.0/8', 'private'),
  row('100.64.0.0/10', 'carrier_grade_nat'),
  row('127.0.0.0/8', 'loopback'),
  row('169.254.0.0/16', 'link_local'), // includes cloud metadata 169.254.169.254
  row('172.16.0.0/12', 'private'),
  row('192.0.0.0/24', 'reserved'), // IETF protocol assignments
  row('192.0.2.0/24', 'reserved'), // TEST-NET-1
  row('192.88.99.0/24', 'reserved'), // deprecated 6to4 relay anycast
  row('192.168.0.0/16', 'private'),
  row('198.18.0.0/15', 'reserved'), // benchmarking
  row('198.51.100.0/24', 'reserved'), // TEST-NET-2
  row('203.0.113.0/24', 'reserved'), // TEST-NET-3
  row('224.0.0.0/4', 'multicast'),
  row('255.255.255.255/32', 'broadcast'), // before 240/4, which contains it
  row('240.0.0.0/4', 'reserved'),
];

// First match wins after the embedded-IPv4 forms are handled; unmatched global unicast is public,
// anything outside 2000::/3 is reserved.
const IPV6_RANGES: readonly RangeRow[] = [
  row('::/128', 'unspecified'),
  row('::1/128', 'loopback'),
  row('64:ff9b:1::/48', 'reserved'), // RFC 8215 local-use NAT64: site-specific, not globally reachable
  row('fe80::/10', 'link_local'),
  row('fec0::/10', 'reserved'), // deprecated site-local
  row('fc00::/7', 'unique_local'),
  row('ff00::/8', 'multicast'),
  row('2001::/23', 'reserved'), // IETF protocol assignments: Teredo, benchmarking, ORCHID, …
  row('2001:db8::/32', 'reserved'), // documentation
  row('3fff::/20', 'reserved'), // documentation (RFC 9637)
];
const IPV6_GLOBAL_UNICAST = ipaddr.parseCIDR('2000::/3');
const IPV6_6TO4 = ipaddr.parseCIDR('2002::/16');

function matchRange(address: IPAddress, ranges: readonly RangeRow[]): AddressClass | undefined {
  for (const [network, prefixLength, addressClass] of ranges) {
    if (network.kind() === address.kind() && address.match(network, prefixLength)) return addressClass;
  }
  return undefined;
}

function ipv4FromWords(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * The IPv4 address an IPv6 address stands for when a dual-stack socket or a translator (NAT64, SIIT)
 * would deliver the packets to that IPv4 host. `::` and `::1` are not treated as embedding anything.
 */
export function extractEmbeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const [p0, p1, p2, p3, p4, p5, p6, p7] = address.parts as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const zeroPrefix = p0 === 0 && p1 === 0 && p2 === 0 && p3 === 0;
  if (zeroPrefix && p4 === 0 && p5 === 0xffff) return ipv4FromWords(p6, p7); // ::ffff:a.b.c.d mapped
  if (zeroPrefix && p4 === 0xffff && p5 === 0) return ipv4FromWords(p6, p7); // ::ffff:0:a.b.c.d translated
  if (zeroPrefix && p4 === 0 && p5 === 0 && (p6 !== 0 || p7 > 1)) return ipv4FromWords(p6, p7); // ::a.b.c.d
  if (p0 === 0x64 && p1 === 0xff9b && p2 === 0 && p3 === 0 && p4 === 0 && p5 === 0) {
    return ipv4FromWords(p6, p7); // 64:ff9b::/96 well-known NAT64 prefix
  }
  return null;
}

/** Classify an address (object, or a string in any notation `parseIpAddress` accepts). */
export function classifyAddress(input: IPAddress | string): AddressClass {
  const address = typeof input === 'string' ? parseIpAddress(input) : input;
  if (!address) throw new TypeError('classifyAddress: not an IP address');
  if (address.kind() === 'ipv4') return matchRange(address, IPV4_RANGES) ?? 'public';

  const v6 = address as ipaddr.IPv6;
  const exact = matchRange(v6, IPV6_RANGES.slice(0, 2)); // :: and ::1 before the ::/96 embedding
  if (exact) return exact;
  const embedded = extractEmbeddedIpv4(v6);
  if (embedded) return classifyAddress(embedded);
  const special = matchRange(v6, IPV6_RANGES);
  if (special) return special;
  if (v6.match(IPV6_6TO4)) {
    // 2002:WWXX:YYZZ::/48 tunnels to IPv4 WW.XX.YY.ZZ; a non-public tunnel endpoint makes it non-public.
    return classifyAddress(ipv4FromWords(v6.parts[1] ?? 0, v6.parts[2] ?? 0));
  }
  return v6.match(IPV6_GLOBAL_UNICAST) ? 'public' : 'reserved';
}

/** A URL host seen as either an IP literal, a DNS name, or something no resolver must be asked about. */
export type ParsedHost =
  { type: 'ip'; address: IPAddress } | { type: 'name'; name: string } | { type: 'invalid' };

/**
 * Parse a URL host (`url.hostname`, or a raw authority host) into an IP literal when it is one.
 * Accepts bracketed or bare IPv6 and every WHATWG IPv4 notation. Names come back lower-cased with one
 * trailing dot removed (`Example.COM.` and `example.com` are the same host).
 */
export function parseHost(host: string): ParsedHost {
  const text = host.toLowerCase();
  if (text.startsWith('[') || text.includes(':')) {
    const inner = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
    return ipaddr.IPv6.isValid(inner)
      ? { type: 'ip', address: ipaddr.IPv6.parse(inner) }
      : { type: 'invalid' };
  }
  if (endsInANumber(text)) {
    const address = parseWhatwgIpv4(text);
    return address ? { type: 'ip', address } : { type: 'invalid' };
  }
  if (text === '' || text === '.') return { type: 'invalid' };
  return { type: 'name', name: text.endsWith('.') ? text.slice(0, -1) : text };
}

/** An IP address in any notation (see `parseHost`), or null when the text is not one. */
export function parseIpAddress(text: string): IPAddress | null {
  const parsed = parseHost(text);
  return parsed.type === 'ip' ? parsed.address : null;
}

// --- WHATWG URL Standard §3.5 "IPv4 parser" -------------------------------------------------------------

function splitIpv4Parts(host: string): string[] {
  const parts = host.split('.');
  if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop(); // one trailing dot is allowed
  return parts;
}

/** "ends in a number checker": the last label is all digits or parses as an IPv4 number (e.g. `0x7f`). */
function endsInANumber(host: string): boolean {
  const last = splitIpv4Parts(host).at(-1) ?? '';
  return /^[0-9]+$/.test(last) || parseIpv4Number(last) !== null;
}

/** "IPv4 number parser": decimal, `0x` hex (bare `0x` is 0) or leading-zero octal; null on failure. */
function parseIpv4Number(part: string): number | null {
  if (part === '') return null;
  let digits = part;
  let radix = 10;
  if (/^0x/i.test(digits)) {
    digits = digits.slice(2);
    radix = 16;
  } else if (digits.length > 1 && digits.startsWith('0')) {
    digits = digits.slice(1);
    radix = 8;
  }
  if (digits === '') return 0;
  const valid = radix === 16 ? /^[0-9a-f]+$/i : radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  if (!valid.test(digits)) return null;
  return parseInt(digits, radix); // may exceed 2^32 (or be Infinity): the range checks below refuse it
}

function parseWhatwgIpv4(host: string): ipaddr.IPv4 | null {
  const parts = splitIpv4Parts(host);
  if (parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const value = parseIpv4Number(part);
    if (value === null) return null;
    numbers.push(value);
  }
  const last = numbers.pop() ?? 0;
  if (numbers.some((n) => n > 255)) return null;
  // The last part fills all the bytes the earlier parts did not: `127.1` → 127.0.0.1.
  if (last >= 256 ** (4 - numbers.length)) return null;
  let value = last;
  numbers.forEach((n, i) => {
    value += n * 256 ** (3 - i);
  });
  return new ipaddr.IPv4([(value >>> 24) & 0xff, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}
