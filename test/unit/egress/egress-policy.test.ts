import { describe, expect, it } from 'vitest';
import {
  checkOutboundUrl,
  compileEgressPolicy,
  createTargetInspector,
  isAddressAllowed,
  parseEgressPolicy,
  parseIpAddress,
} from '../../../src/egress/index.ts';
import type { EgressPolicy } from '../../../src/egress/index.ts';

// Decisions on strings only: no DNS, no sockets.

const production: EgressPolicy = { mode: 'production', allowList: [] };
const development: EgressPolicy = { mode: 'development', allowList: [] };

function addressAllowed(policy: EgressPolicy, address: string, hostname = 'shop.example', port = 443) {
  const ip = parseIpAddress(address);
  if (!ip) throw new Error(`bad test address ${address}`);
  return isAddressAllowed(compileEgressPolicy(policy), { hostname, port }, ip);
}

describe('checkOutboundUrl — syntax and scheme', () => {
  it('accepts ordinary public https and http URLs', () => {
    expect(checkOutboundUrl('https://shop.example/webhooks/kassa', production)).toBeNull();
    expect(checkOutboundUrl('http://shop.example:8080/cb?x=1', production)).toBeNull();
    expect(checkOutboundUrl('https://8.8.8.8/', production)).toBeNull();
    expect(checkOutboundUrl('https://[2606:4700::1111]/', production)).toBeNull();
  });

  it.each([
    ['not a url', 'invalid_url'],
    ['http://1.2.3.256/', 'invalid_url'],
    ['ftp://shop.example/', 'unsupported_scheme'],
    ['file:///etc/passwd', 'unsupported_scheme'],
    ['gopher://shop.example:70/', 'unsupported_scheme'],
    ['javascript:alert(1)', 'unsupported_scheme'],
    ['https://user:pass@shop.example/', 'credentials_in_url'],
    ['https://user@shop.example/', 'credentials_in_url'],
  ])('%s → %s', (url, code) => {
    expect(checkOutboundUrl(url, production)?.code).toBe(code);
    expect(checkOutboundUrl(url, development)?.code).toBe(code);
  });
});

describe('checkOutboundUrl — literal hosts in every notation', () => {
  const loopbackUrls = [
    'http://127.0.0.1:3000/',
    'http://2130706433/',
    'http://0x7f000001/',
    'http://0177.0.0.1/',
    'http://127.1/',
    'http://0x7f.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:7f00:1]/',
    'http://１２７.０.０.１/', // full-width digits: IDNA maps them to ASCII
    'http://127.0.0.1./',
    'http://localhost:3000/', // RFC 6761: loopback whatever DNS says
    'http://shop.localhost/',
  ];
  it.each(loopbackUrls)('production refuses %s as loopback', (url) => {
    expect(checkOutboundUrl(url, production)).toMatchObject({
      code: 'address_not_allowed',
      addressClass: 'loopback',
    });
  });
  it.each(loopbackUrls)('development allows %s', (url) => {
    expect(checkOutboundUrl(url, development)).toBeNull();
  });

  it.each([
    ['http://10.0.0.1/', 'private'],
    ['http://167772161/', 'private'],
    ['http://192.168.1.1/', 'private'],
    ['http://172.16.0.1/', 'private'],
    ['http://169.254.169.254/latest/meta-data/', 'link_local'],
    ['http://0xa9fea9fe/', 'link_local'],
    ['http://100.64.0.1/', 'carrier_grade_nat'],
    ['http://0.0.0.0/', 'unspecified'],
    ['http://0/', 'unspecified'],
    ['http://[::]/', 'unspecified'],
    ['http://[fe80::1]/', 'link_local'],
    ['http://[fd00::1]/', 'unique_local'],
    ['http://[::ffff:10.0.0.1]/', 'private'],
    ['http://[64:ff9b::a9fe:a9fe]/', 'link_local'],
    ['http://224.0.0.1/', 'multicast'],
    ['http://255.255.255.255/', 'broadcast'],
  ])('both modes refuse %s (%s)', (url, addressClass) => {
    for (const policy of [production, development]) {
      expect(checkOutboundUrl(url, policy)).toMatchObject({ code: 'address_not_allowed', addressClass });
    }
  });

  it('does not resolve names at registration (they are checked again on every send)', () => {
    expect(checkOutboundUrl('https://internal.example/', production)).toBeNull();
  });
});

describe('isAddressAllowed — modes', () => {
  it('production allows only public addresses', () => {
    expect(addressAllowed(production, '93.184.216.34')).toBe(true);
    expect(addressAllowed(production, '2606:4700::1111')).toBe(true);
    for (const address of [
      '127.0.0.1',
      '::1',
      '10.0.0.1',
      '169.254.1.1',
      'fc00::1',
      '100.64.0.1',
      '0.0.0.0',
    ]) {
      expect(addressAllowed(production, address), address).toBe(false);
    }
  });

  it('development adds loopback, and nothing else', () => {
    expect(addressAllowed(development, '127.0.0.1')).toBe(true);
    expect(addressAllowed(development, '127.8.9.10')).toBe(true);
    expect(addressAllowed(development, '::1')).toBe(true);
    expect(addressAllowed(development, '::ffff:127.0.0.1')).toBe(true);
    for (const address of ['10.0.0.1', '192.168.0.10', '169.254.169.254', 'fe80::1', 'fd00::1', '0.0.0.0']) {
      expect(addressAllowed(development, address), address).toBe(false);
    }
  });
});

describe('allow-list', () => {
  it('CIDR entries allow their range in production, v4 and v6', () => {
    const policy: EgressPolicy = {
      mode: 'production',
      allowList: ['127.0.0.1/32', '10.1.0.0/16', 'fd00::/8'],
    };
    expect(addressAllowed(policy, '127.0.0.1')).toBe(true);
    expect(addressAllowed(policy, '::ffff:127.0.0.1')).toBe(true); // IPv4-mapped is the same host
    expect(addressAllowed(policy, '127.0.0.2')).toBe(false);
    expect(addressAllowed(policy, '10.1.200.3')).toBe(true);
    expect(addressAllowed(policy, '10.2.0.1')).toBe(false);
    expect(addressAllowed(policy, 'fd12::5')).toBe(true);
    expect(addressAllowed(policy, 'fc00::5')).toBe(false);
    expect(checkOutboundUrl('http://2130706433:9000/', policy)).toBeNull();
    expect(checkOutboundUrl('http://[::ffff:7f00:1]:9000/', policy)).toBeNull();
  });

  it('IP entries with a port allow only that port', () => {
    const policy: EgressPolicy = { mode: 'production', allowList: ['127.0.0.1:4000', '[::1]:4001'] };
    expect(checkOutboundUrl('http://127.0.0.1:4000/', policy)).toBeNull();
    expect(checkOutboundUrl('http://127.1:4000/', policy)).toBeNull();
    expect(checkOutboundUrl('http://127.0.0.1:4001/', policy)?.code).toBe('address_not_allowed');
    expect(checkOutboundUrl('http://[::1]:4001/', policy)).toBeNull();
    expect(checkOutboundUrl('http://[::1]:4000/', policy)?.code).toBe('address_not_allowed');
  });

  it('host entries match exactly and case-insensitively, optionally by port, whatever they resolve to', () => {
    const policy: EgressPolicy = {
      mode: 'production',
      allowList: ['Receiver.Internal', 'hooks.internal:8443'],
    };
    expect(addressAllowed(policy, '10.0.0.7', 'receiver.internal', 80)).toBe(true);
    expect(addressAllowed(policy, '10.0.0.7', 'RECEIVER.internal.', 80)).toBe(true);
    expect(addressAllowed(policy, '10.0.0.7', 'x.receiver.internal', 80)).toBe(false); // no suffix matching
    expect(addressAllowed(policy, '10.0.0.7', 'hooks.internal', 8443)).toBe(true);
    expect(addressAllowed(policy, '10.0.0.7', 'hooks.internal', 443)).toBe(false);
    expect(
      checkOutboundUrl('http://localhost/', { mode: 'production', allowList: ['localhost'] }),
    ).toBeNull();
  });

  it('a bare IPv6 entry is a /128', () => {
    const policy: EgressPolicy = { mode: 'production', allowList: ['::1'] };
    expect(addressAllowed(policy, '::1')).toBe(true);
    expect(addressAllowed(policy, '127.0.0.1')).toBe(false);
  });

  it.each(['10/8', '10.0.0.0/33', 'http://x/', 'host:99999', 'a b', '[::1', 'user@host', '1.2.3.256'])(
    'refuses the bad entry %s at compile time',
    (entry) => {
      expect(() => compileEgressPolicy({ mode: 'production', allowList: [entry] })).toThrow(
        /allow-list entry/,
      );
    },
  );
});

describe('parseEgressPolicy', () => {
  it('defaults to production with an empty allow-list', () => {
    expect(parseEgressPolicy({})).toEqual({ mode: 'production', allowList: [] });
  });

  it('splits a comma/space separated list and validates it', () => {
    expect(
      parseEgressPolicy({ mode: 'development', allowList: ' 10.0.0.0/8, shop.local:3000  ::1 ' }),
    ).toEqual({
      mode: 'development',
      allowList: ['10.0.0.0/8', 'shop.local:3000', '::1'],
    });
    expect(() => parseEgressPolicy({ allowList: '10/8' })).toThrow(/allow-list entry/);
    expect(() => parseEgressPolicy({ mode: 'staging' })).toThrow(/mode/);
  });
});

describe('createTargetInspector', () => {
  it('gives the same verdict as checkOutboundUrl for the same string, however often it is asked', () => {
    const inspect = createTargetInspector(compileEgressPolicy(production));
    for (let round = 0; round < 3; round++) {
      expect(inspect('https://Shop.Example:8443/hooks?x=1')).toEqual({
        ok: true,
        target: {
          origin: 'https://shop.example:8443',
          path: '/hooks?x=1',
          scheme: 'https',
          hostname: 'shop.example',
          port: 8443,
        },
      });
      expect(inspect('http://127.0.0.1/hooks')).toMatchObject({
        ok: false,
        refusal: { code: 'address_not_allowed' },
      });
      expect(inspect('https://user@shop.example/')).toMatchObject({
        ok: false,
        refusal: { code: 'credentials_in_url' },
      });
    }
    // Another policy keeps verdicts of its own.
    const inspectDevelopment = createTargetInspector(compileEgressPolicy(development));
    expect(inspectDevelopment('http://127.0.0.1/hooks')).toMatchObject({ ok: true, target: { port: 80 } });
    expect(inspect('http://127.0.0.1/hooks').ok).toBe(false);
  });
});
