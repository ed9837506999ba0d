import { describe, expect, it } from 'vitest';
import {
  createCspNonce,
  pageSecurityHeaders,
  setPageSecurityHeaders,
} from '../../../src/http/pages/page-security.ts';

function directives(csp: string): Map<string, string[]> {
  return new Map(
    csp.split(';').map((part) => {
      const [name, ...values] = part.trim().split(/\s+/);
      return [name!, values];
    }),
  );
}

describe('createCspNonce', () => {
  it('returns 128 random bits, base64, different every time', () => {
    const nonces = new Set(Array.from({ length: 50 }, () => createCspNonce()));
    expect(nonces.size).toBe(50);
    for (const nonce of nonces) {
      expect(nonce).toMatch(/^[A-Za-z0-9+/]{22}==$/);
      expect(Buffer.from(nonce, 'base64')).toHaveLength(16);
    }
  });
});

describe('pageSecurityHeaders', () => {
  const nonce = createCspNonce();
  const headers = pageSecurityHeaders(nonce, {
    formActionOrigins: [
      'https://shop.example/return/ok?sig=1',
      'https://shop.example',
      'http://127.0.0.1:4000/x',
    ],
  });
  const csp = directives(headers['Content-Security-Policy']!);

  it('allows scripts only with the nonce or from our origin; never unsafe-inline or unsafe-eval', () => {
    expect(csp.get('script-src')).toEqual([`'nonce-${nonce}'`, "'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'", `'nonce-${nonce}'`]);
    const all = headers['Content-Security-Policy']!;
    expect(all).not.toMatch(/unsafe-inline|unsafe-eval|unsafe-hashes|\*/);
  });

  it('locks down everything else', () => {
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('img-src')).toEqual(["'self'", 'https:', 'data:']);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
  });

  it('lists the merchant redirect origins in form-action, reduced to origins and deduplicated', () => {
    expect(csp.get('form-action')).toEqual(["'self'", 'https://shop.example', 'http://127.0.0.1:4000']);
    const more = pageSecurityHeaders(nonce, {
      formActionOrigins: ['https://bücher.example/ok', 'http://[::1]:8080/back'],
    });
    expect(directives(more['Content-Security-Policy']!).get('form-action')).toEqual([
      "'self'",
      'https://xn--bcher-kva.example',
      'http://[::1]:8080',
    ]);
  });

  it('sets the other protective headers', () => {
    expect(headers['X-Frame-Options']).toBe('DENY');
    expect(headers['Cache-Control']).toBe('no-store');
    expect(headers['Referrer-Policy']).toBe('no-referrer');
    expect(headers['X-Content-Type-Options']).toBe('nosniff');
    expect(headers['Permissions-Policy']).toContain('camera=()');
  });

  it('refuses origins and nonces that could smuggle in another directive', () => {
    expect(() => pageSecurityHeaders(nonce, { formActionOrigins: ['javascript:alert(1)'] })).toThrow(
      TypeError,
    );
    expect(() =>
      pageSecurityHeaders(nonce, { formActionOrigins: ["https://a.example; script-src 'unsafe-inline'"] }),
    ).toThrow(TypeError);
    // The URL parser accepts `;` and `,` in a host name; they must still not reach the header.
    expect(() => pageSecurityHeaders(nonce, { formActionOrigins: ['https://a.example;script-src'] })).toThrow(
      TypeError,
    );
    expect(() => pageSecurityHeaders(nonce, { formActionOrigins: ['https://a.example,b'] })).toThrow(
      TypeError,
    );
    expect(() => pageSecurityHeaders("abc'; script-src *", { formActionOrigins: [] })).toThrow(TypeError);
    expect(() => pageSecurityHeaders('short', { formActionOrigins: [] })).toThrow(TypeError);
  });
});

describe('setPageSecurityHeaders', () => {
  it('sets the headers of pageSecurityHeaders, byte for byte, under lowercase names', () => {
    const nonce = 'AAAAAAAAAAAAAAAAAAAAAA==';
    const set: [string, string][] = [];
    setPageSecurityHeaders({ header: (name, value) => set.push([name, value]) }, nonce, {
      formActionOrigins: ['https://shop.example/ok', 'https://pay.example'],
    });
    const expected = Object.entries(
      pageSecurityHeaders(nonce, { formActionOrigins: ['https://shop.example/ok', 'https://pay.example'] }),
    ).map(([name, value]) => [name.toLowerCase(), value]);
    expect(set).toEqual(expected);
    expect(Object.fromEntries(set)['content-security-policy']).toBe(
      `default-src 'none'; script-src 'nonce-${nonce}' 'self'; style-src 'self' 'nonce-${nonce}'; ` +
        "img-src 'self' https: data:; connect-src 'self'; form-action 'self' https://shop.example https://pay.example; " +
        "frame-ancestors 'none'; base-uri 'none'",
    );
  });

  it("puts each response's own nonce in, and checks the origins however often the same list comes back", () => {
    const csp = (nonce: string, origins: string[]) => {
      const set = new Map<string, string>();
      setPageSecurityHeaders({ header: (name, value) => set.set(name, value) }, nonce, {
        formActionOrigins: origins,
      });
      return set.get('content-security-policy')!;
    };
    const [first, second] = [createCspNonce(), createCspNonce()];
    expect(csp(first, ['https://a.example'])).toContain(`'nonce-${first}'`);
    expect(csp(second, ['https://a.example'])).toContain(`'nonce-${second}'`);
    expect(csp(second, ['https://a.example'])).not.toContain(first);
    for (let i = 0; i < 2; i++) {
      expect(() => csp(first, ['https://a.example;script-src'])).toThrow(TypeError);
    }
    expect(() => csp('short', ['https://a.example'])).toThrow(TypeError);
  });
});
