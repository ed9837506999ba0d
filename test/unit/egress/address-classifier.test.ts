import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyAddress, parseHost, parseIpAddress } from '../../../src/egress/index.ts';
import type { AddressClass } from '../../../src/egress/index.ts';

// Strings only: nothing here touches the network.

describe('classifyAddress — IPv4', () => {
  const cases: [string, AddressClass][] = [
    ['0.0.0.0', 'unspecified'],
    ['0.255.255.255', 'unspecified'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['100.64.0.1', 'carrier_grade_nat'],
    ['100.127.255.255', 'carrier_grade_nat'],
    ['100.128.0.1', 'public'], // just past 100.64/10
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'link_local'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'], // just past 172.16/12
    ['172.15.255.255', 'public'],
    ['192.168.1.1', 'private'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['203.0.113.5', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.255', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['93.184.216.34', 'public'],
  ];
  it.each(cases)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

describe('classifyAddress — IPv6', () => {
  const cases: [string, AddressClass][] = [
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'link_local'],
    ['fe80::', 'link_local'],
    ['fc00::1', 'unique_local'],
    ['fd12:3456::1', 'unique_local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'], // Teredo
    ['4000::1', 'reserved'], // outside global unicast: fail closed
    ['2606:4700::1111', 'public'],
    ['2001:4860:4860::8888', 'public'],
    // Embedded IPv4 decides.
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:8.8.8.8', 'public'],
    ['::127.0.0.1', 'loopback'], // IPv4-compatible (deprecated)
    ['::ffff:0:10.0.0.1', 'private'], // IPv4-translated
    ['64:ff9b::a00:1', 'private'], // NAT64 of 10.0.0.1
    ['64:ff9b::7f00:1', 'loopback'],
    ['64:ff9b::808:808', 'public'],
    ['64:ff9b:1::1', 'reserved'], // local-use NAT64
    ['2002:7f00:1::1', 'loopback'], // 6to4 tunnel to 127.0.0.1
    ['2002:808:808::1', 'public'],
  ];
  it.each(cases)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });
});

describe('every IPv4 notation of 127.0.0.1 is loopback', () => {
  it.each([
    '127.0.0.1',
    '2130706433', // dword
    '0x7f000001', // hex dword
    '0X7F000001',
    '0177.0.0.1', // octal first part
    '0177.0000.0000.0001',
    '0x7f.0x0.0x0.0x1',
    '0x7f.1', // two parts, hex
    '127.1', // short
    '127.0.1',
    '017700000001', // octal dword
    '127.0.0.1.', // trailing dot
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[::1]',
  ])('%s', (host) => {
    const parsed = parseHost(host);
    expect(parsed.type).toBe('ip');
    expect(classifyAddress(host)).toBe('loopback');
  });

  it('other notations land on the right address', () => {
    expect(parseIpAddress('167772161')?.toString()).toBe('10.0.0.1');
    expect(parseIpAddress('0xa9.0xfe.0xa9.0xfe')?.toString()).toBe('169.254.169.254');
    expect(parseIpAddress('0xA9FEA9FE')?.toString()).toBe('169.254.169.254');
    expect(parseIpAddress('10.1')?.toString()).toBe('10.0.0.1');
    expect(parseIpAddress('0')?.toString()).toBe('0.0.0.0');
    expect(parseIpAddress('0x')?.toString()).toBe('0.0.0.0'); // WHATWG: a bare 0x is zero
  });
});

describe('parseHost', () => {
  it('returns names lower-cased without a trailing dot', () => {
    expect(parseHost('Shop.Example.')).toEqual({ type: 'name', name: 'shop.example' });
    expect(parseHost('localhost')).toEqual({ type: 'name', name: 'localhost' });
    expect(parseHost('1.example')).toEqual({ type: 'name', name: '1.example' });
    expect(parseHost('0x1g')).toEqual({ type: 'name', name: '0x1g' }); // not a number, so a (bad) name
  });

  it('refuses hosts that end in a number but are not IPv4 (never looked up as names)', () => {
    for (const host of [
      '1.2.3.256',
      '256.1.1.1',
      '1.2.3.4.5',
      '08.0.0.1',
      '4294967296',
      '0x100000000',
      '1..1',
    ]) {
      expect(parseHost(host), host).toEqual({ type: 'invalid' });
    }
  });

  it('refuses malformed IPv6 and empty hosts', () => {
    expect(parseHost('[::1')).toEqual({ type: 'invalid' });
    expect(parseHost('[12345::]')).toEqual({ type: 'invalid' });
    expect(parseHost('')).toEqual({ type: 'invalid' });
  });

  it('classifyAddress throws on non-addresses instead of guessing', () => {
    expect(() => classifyAddress('example.com')).toThrow(TypeError);
  });
});

describe('parseHost agrees with the WHATWG URL parser', () => {
  // `new URL()` is what every request goes through; the parser must never disagree with it on
  // whether a host is an IPv4 address and which one.
  const hostChars = fc.constantFrom('0', '1', '7', '8', '9', 'x', 'X', 'a', 'f', 'g', '.');
  const hosts = fc.array(hostChars, { minLength: 1, maxLength: 18 }).map((chars) => chars.join(''));

  it('on random digit/hex/dot hosts', () => {
    fc.assert(
      fc.property(hosts, (host) => {
        let whatwg: string | null;
        try {
          whatwg = new URL(`http://${host}/`).hostname;
        } catch {
          whatwg = null;
        }
        const parsed = parseHost(host);
        if (whatwg === null || whatwg === '.') {
          // (`.` is a legal WHATWG host but an empty name: parseHost is deliberately stricter there.)
          expect(parsed).toEqual({ type: 'invalid' });
        } else if (/^\d+\.\d+\.\d+\.\d+$/.test(whatwg)) {
          expect(parsed.type === 'ip' && parsed.address.toString()).toBe(whatwg);
        } else {
          expect(parsed).toEqual({ type: 'name', name: whatwg.replace(/\.$/, '') });
        }
      }),
      { numRuns: 3000 },
    );
  });
});
