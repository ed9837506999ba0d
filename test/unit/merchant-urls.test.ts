import { describe, expect, it } from 'vitest';
import {
  MAX_MERCHANT_URL_LENGTH,
  appendQueryParams,
  checkCallbackUrl,
  checkRedirectUrl,
} from '../../src/lib/merchant-urls.ts';

const live = { livemode: true };
const test = { livemode: false };
const checks = { redirect: checkRedirectUrl, callback: checkCallbackUrl };

describe.each(Object.entries(checks))('%s URLs', (_kind, check) => {
  it('accept absolute https URLs with a host, port, path and query', () => {
    for (const url of [
      'https://example.com/complete',
      'https://shop.example.com:8443/orders/1366656595193/done?ref=abc&x=%20y',
      'HTTPS://Example.COM/',
      'https://[2001:db8::1]/cb',
      'https://127.0.0.1:3000/cb',
      'https://xn--bcher-kva.example/',
    ]) {
      expect(check(url, live), url).toBeNull();
      expect(check(url, test), url).toBeNull();
    }
  });

  it('accept http:// in test mode only', () => {
    expect(check('http://localhost:4000/return', test)).toBeNull();
    expect(check('http://localhost:4000/return', live)).toBe(
      'must use https:// in live mode (http:// is accepted in test mode only)',
    );
  });

  it.each([
    ['javascript:alert(1)'],
    ['JavaScript:alert(1)//https://example.com'],
    ['data:text/html,<script>alert(1)</script>'],
    ['vbscript:msgbox(1)'],
    ['file:///etc/passwd'],
    ['ftp://example.com/'],
    ['https:example.com'],
    ['https:/example.com'],
    ['//example.com/path'],
    ['/path/only'],
    ['example.com/path'],
    ['wss://example.com/'],
  ])('refuse %s (not an absolute https URL)', (url) => {
    expect(check(url, live)).toBe('must be an absolute URL starting with https://');
    expect(check(url, test)).toBe('must be an absolute URL starting with https:// (or http:// in test mode)');
  });

  it('refuse credentials in the authority', () => {
    for (const url of [
      'https://user:pass@example.com/',
      'https://user@example.com/',
      'https://@example.com/',
      'https://example.com@evil.example/',
      'http://a:b@localhost/',
    ]) {
      expect(check(url, test), url).toBe('must not contain credentials (user:password@host)');
    }
    // An @ after the host is part of the path, not credentials.
    expect(check('https://example.com/users/@me', live)).toBeNull();
  });

  it.each([
    ['https://exa\tmple.com/', 'a tab'],
    ['https://example.com/\n', 'a line feed'],
    ['https://example.com/\r\nSet-Cookie:x', 'a carriage return'],
    ['https://example.com/a b', 'a space'],
    ['https:\\\\example.com\\', 'a backslash'],
    ['https://example.com/\\evil.example', 'a backslash'],
    ['https://example.com/\u0000', 'the character U+0000'],
    ['https://example.com/\u001b[31m', 'the character U+001B'],
    ['https://example.com/\u007f', 'the character U+007F'],
    ['https://example.com/\u0085', 'the character U+0085'],
    ['https://example.com/\u00a0', 'the character U+00A0'],
    ['https://example.com/\u2028', 'the character U+2028'],
    ['https://example.com/\u202e', 'the character U+202E'],
    [' https://example.com/', 'a space'],
  ])('refuse forbidden characters: %j', (url, name) => {
    expect(check(url, test)).toMatch(
      new RegExp(`^must not contain ${name.replace('+', '\\+')} \\(at position \\d+\\)`),
    );
  });

  it('refuse a missing host', () => {
    for (const url of ['https://', 'https:///path', 'https://?q=1', 'https://#x']) {
      expect(check(url, live), url).toBe('must name a host after the scheme (e.g. https://shop.example/)');
    }
  });

  it('refuse what WHATWG cannot parse', () => {
    for (const url of [
      'https://exa mple.com',
      'https://example.com:99999/',
      'https://exa<mple.com/',
      'https://:443/',
    ]) {
      expect(check(url, live), url).not.toBeNull();
    }
    expect(check('https://example.com:99999/', live)).toBe('is not a valid URL');
  });

  it(`refuse more than ${MAX_MERCHANT_URL_LENGTH} characters`, () => {
    const base = 'https://example.com/';
    const fits = base + 'a'.repeat(MAX_MERCHANT_URL_LENGTH - base.length);
    expect(fits).toHaveLength(MAX_MERCHANT_URL_LENGTH);
    expect(check(fits, live)).toBeNull();
    expect(check(fits + 'a', live)).toBe(
      `must be at most ${MAX_MERCHANT_URL_LENGTH} characters long, got ${MAX_MERCHANT_URL_LENGTH + 1}`,
    );
  });

  it('refuse an empty string', () => {
    expect(check('', live)).toBe('must not be empty');
  });
});

describe('fragments', () => {
  it('are allowed in redirect URLs (single-page shops)', () => {
    expect(checkRedirectUrl('https://shop.example/#/checkout/done', live)).toBeNull();
    expect(checkRedirectUrl('https://shop.example/app?x=1#/done', live)).toBeNull();
  });

  it('are refused in callback URLs, even empty ones', () => {
    const reason = 'must not contain a fragment (#…): a server-to-server request never sends it';
    expect(checkCallbackUrl('https://shop.example/cb#ok', live)).toBe(reason);
    expect(checkCallbackUrl('https://shop.example/cb#', live)).toBe(reason);
  });
});

describe('appendQueryParams', () => {
  it('adds parameters to a URL without a query', () => {
    expect(
      appendQueryParams('https://example.com/complete', { checkout_id: 'chk_1', status: 'COMPLETED' }),
    ).toBe('https://example.com/complete?checkout_id=chk_1&status=COMPLETED');
  });

  it('keeps existing parameters as they were written, in order', () => {
    expect(
      appendQueryParams('https://example.com/r?order=1366656595193&note=a%20b&flag', { status: 'OK' }),
    ).toBe('https://example.com/r?order=1366656595193&note=a%20b&flag&status=OK');
  });

  it('inserts before the fragment', () => {
    expect(appendQueryParams('https://shop.example/#/checkout/done', { status: 'COMPLETED' })).toBe(
      'https://shop.example/?status=COMPLETED#/checkout/done',
    );
    expect(appendQueryParams('https://shop.example/app?x=1#/done?y=2', { status: 'COMPLETED' })).toBe(
      'https://shop.example/app?x=1&status=COMPLETED#/done?y=2',
    );
  });

  it('replaces a merchant parameter with the same name so ours cannot be shadowed', () => {
    const url = appendQueryParams('https://example.com/r?status=PAID&a=1&st%61tus=PAID&status', {
      status: 'CANCELED',
    });
    expect(url).toBe('https://example.com/r?a=1&status=CANCELED');
    expect(new URL(url).searchParams.getAll('status')).toEqual(['CANCELED']);
  });

  it('encodes names and values', () => {
    const url = appendQueryParams('https://example.com/r?', { 'sig nature': 'a+b/c=d&e#f' });
    expect(url).toBe('https://example.com/r?sig%20nature=a%2Bb%2Fc%3Dd%26e%23f');
    expect(new URL(url).searchParams.get('sig nature')).toBe('a+b/c=d&e#f');
  });

  it('leaves the URL unchanged (but normalised) when there is nothing to add', () => {
    expect(appendQueryParams('https://Example.com', {})).toBe('https://example.com/');
  });

  it('throws for something that is not a URL', () => {
    expect(() => appendQueryParams('/relative', { a: 'b' })).toThrow(TypeError);
  });
});
