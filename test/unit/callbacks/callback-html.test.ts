import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rewriteCssUrls, sanitizeCallbackHtml } from '../../../src/modules/callbacks/callback-html.ts';
import { callbackPageHeaders } from '../../../src/modules/callbacks/callback-page-security.ts';

const PAGE_URL = 'http://shop.test/checkout/ok?order=7';
const proxy = (url: string) => `/callback-proxy/SIG?url=${encodeURIComponent(url)}`;
const clean = (html: string) => sanitizeCallbackHtml(html, { pageUrl: PAGE_URL, proxy });

/** Every URL-carrying attribute of the output, as [attribute, value] (the sanitiser double-quotes them all). */
function urlAttributes(html: string): [string, string][] {
  return [...html.matchAll(/\s(href|src|action|srcset|background|formaction|poster|data)="([^"]*)"/gi)].map(
    (m) => [m[1]!.toLowerCase(), m[2]!.replaceAll('&amp;', '&')],
  );
}

const ALLOWED_URL = /^(https:\/\/|\/callback-proxy\/|data:image\/|#|mailto:|tel:|http:\/\/)/;

/** The invariants every sanitised page must keep, whatever the input. */
function expectInert(html: string) {
  // Markup only: attribute values (always double-quoted, with `"` and `<` escaped) blanked out, so text such as
  // title="&lt;img onerror=…&gt;" — inert — does not count as an attribute.
  // Style text (CSS, in which `<` is always escaped) is checked apart.
  const styles = [...html.matchAll(/<style\b[^>]*>([\s\S]*?)<\/style>/gi)].map((m) => m[1]!);
  for (const css of styles) expect(css).not.toContain('<');
  const markup = html.replace(/(<style\b[^>]*>)[\s\S]*?(<\/style>)/gi, '$1$2').replace(/="[^"]*"/g, '=""');
  expect(markup).not.toMatch(
    /<\s*(script|iframe|frame|object|embed|applet|base|svg|math|template|portal)\b/i,
  );
  expect(markup).not.toMatch(/\son[a-z]+\s*=/i);
  expect(markup).not.toMatch(/http-equiv/i);
  expect(markup).not.toMatch(/\s(target|ping|formaction|srcset|background)=/i);
  expect(markup).not.toMatch(/<[^>]*\bjavascript:/i);
  for (const [attribute, value] of urlAttributes(html)) {
    expect(value, `${attribute}="${value}"`).toMatch(ALLOWED_URL);
    // http: is only ever a link or a form target, never a resource.
    if (value.startsWith('http://')) expect(['href', 'action']).toContain(attribute);
  }
}

describe('sanitizeCallbackHtml', () => {
  it('removes scripts, handlers, javascript: links, frames, refresh, base, and keeps the content', () => {
    const { html } = clean(`<html><head><meta http-equiv="refresh" content="0;url=https://evil.example/">
      <base href="https://evil.example/"><script src="https://evil.example/x.js"></script></head>
      <body onload="x()"><h1>Thanks!</h1><img src=x onerror="alert(1)"><a href="javascript:alert(1)">click</a>
      <iframe src="https://evil.example/"></iframe><object data="x.swf"></object><embed src="x.swf"></body></html>`);
    expectInert(html);
    expect(html).toContain('<h1>Thanks!</h1>');
    expect(html).toContain('<a>click</a>');
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
  });

  it('resolves relative links and forms against the callback URL, or the merchant base href', () => {
    const direct = clean(
      '<a href="receipt">r</a><a href="/home">h</a><a href="#top">t</a><form><input name=q></form>',
    );
    expect(direct.html).toContain('href="http://shop.test/checkout/receipt"');
    expect(direct.html).toContain('href="http://shop.test/home"');
    expect(direct.html).toContain('href="#top"');
    expect(direct.html).toContain('action="http://shop.test/checkout/ok?order=7"');
    const based = clean(
      '<base href="https://www.shop.test/store/"><a href="receipt">r</a><form action="sub" method=POST></form>',
    );
    expect(based.html).toContain('href="https://www.shop.test/store/receipt"');
    expect(based.html).toContain('action="https://www.shop.test/store/sub" method="post"');
    expect(based.formOrigins.sort()).toEqual(['http://shop.test', 'https://www.shop.test']);
  });

  it('proxies http resources (attributes, <style>, style="") and loads https ones directly', () => {
    const { html } =
      clean(`<link rel="stylesheet" href="/s.css"><link rel="stylesheet" href="https://cdn.test/s.css">
      <link rel="preload" href="https://cdn.test/x.js"><link rel="icon" href="/f.ico">
      <style>body{background:url('/bg.png')} @import "http://cdn.test/i.css";</style>
      <img src="logo.png"><img src="https://cdn.test/i.png"><p style="background-image:url(http://x.test/p.png)">p</p>`);
    expectInert(html);
    expect(html).toContain(`href="${proxy('http://shop.test/s.css')}"`.replaceAll('&', '&amp;'));
    expect(html).toContain('href="https://cdn.test/s.css"');
    expect(html).not.toContain('preload');
    expect(html).not.toContain('f.ico');
    expect(html).toContain(`url("${proxy('http://shop.test/bg.png')}")`);
    expect(html).toContain(`@import "${proxy('http://cdn.test/i.css')}"`);
    expect(html).toContain(`src="${proxy('http://shop.test/checkout/logo.png')}"`);
    expect(html).toContain('src="https://cdn.test/i.png"');
    expect(html).toContain(proxy('http://x.test/p.png'));
  });

  it('drops the content of script-like and foreign elements, keeps noscript content', () => {
    const { html } = clean(
      '<svg><style>x</style><a href="javascript:1">s</a></svg><math><mi><style><img src=x onerror=alert(1)></style></mi></math>' +
        '<template><img src=x onerror=alert(2)></template><noscript><p>No JS</p></noscript><xmp><img src=x onerror=alert(3)></xmp>',
    );
    expectInert(html);
    expect(html).toContain('<p>No JS</p>');
  });

  it('keeps only viewport metas and neutralises forms that could not post anywhere safe', () => {
    const { html } = clean(
      '<meta charset="latin1"><meta name="referrer" content="unsafe-url"><meta name="viewport" content="width=device-width">' +
        '<form action="javascript:alert(1)"><button formaction="https://evil.example">x</button></form>',
    );
    expect(html).toContain('<meta name="viewport" content="width=device-width">');
    expect(html).not.toContain('referrer');
    expect(html).not.toContain('charset');
    expect(html).not.toContain('<form');
    expectInert(html);
  });

  it('keeps every invariant for documents made of known attack vectors (property)', () => {
    const vectors = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '<IMG SRC="jav&#x09;ascript:alert(1);">',
      '<a href="JaVaScRiPt:alert(1)">a</a>',
      '<a href=" javascript:alert(1)">a</a>',
      '<a href="java\nscript:alert(1)">a</a>',
      '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a</a>',
      '<img src="data:text/html,<script>alert(1)</script>">',
      '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
      '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
      '<base href="javascript:alert(1)//">',
      '<svg onload=alert(1)>',
      '<body onpageshow=alert(1)>',
      '<form action="https://evil.example"><input type=image src=x formaction=javascript:alert(1)></form>',
      '<a href="https://ok.example" target="_blank" ping="https://track.example">t</a>',
      '<img srcset="https://evil.example/a.png 1x">',
      '<table background="javascript:alert(1)"><tr><td>x</td></tr></table>',
      '<style>@import "javascript:alert(1)"; a{background:url(javascript:alert(1))}</style>',
      '<p style="background:url(javascript:alert(1))">x</p>',
      '<object data="data:text/html,<script>alert(1)</script>"></object>',
      '<link rel="import" href="https://evil.example/x.html">',
      '<video poster="javascript:alert(1)"><source src="x"></video>',
      '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
      '<select><style></select><img src=x onerror=alert(1)></style></select>',
      '<!--<img src=x onerror=alert(1)>-->',
      '<![CDATA[<img src=x onerror=alert(1)>]]>',
      '<p>plain</p>',
      '<a href="/relative">r</a>',
      '<img src="http://plain.example/i.png">',
    ];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...vectors), { minLength: 1, maxLength: 8 }), (parts) => {
        expectInert(clean(parts.join('')).html);
      }),
      { numRuns: 300 },
    );
  });
});

describe('rewriteCssUrls', () => {
  it('rewrites quoted and bare url() and @import strings; refused ones become an inert data: URL', () => {
    const css = `a{background:url(x.png)} b{background:url( "y.png" )} c{background:url('javascript:1')} @import 'z.css';`;
    const out = rewriteCssUrls(css, (raw) =>
      raw.startsWith('javascript:') ? null : `https://cdn.test/${raw}`,
    );
    expect(out).toBe(
      'a{background:url("https://cdn.test/x.png")} b{background:url("https://cdn.test/y.png")} ' +
        'c{background:url("data:,")} @import "https://cdn.test/z.css";',
    );
  });
});

describe('callbackPageHeaders', () => {
  it('sandboxes without scripts and names only the forms origins, Kassa and https for resources', () => {
    const headers = callbackPageHeaders({
      publicUrl: 'https://pay.kassa.test',
      formOrigins: ['http://shop.test', 'bogus; script-src *'],
      merchantOrigins: ['http://shop.test'],
    });
    const csp = headers['Content-Security-Policy'];
    expect(csp).toBe(
      "sandbox allow-forms; default-src 'none'; img-src 'self' https://pay.kassa.test https: data:; " +
        "style-src 'self' https://pay.kassa.test https: 'unsafe-inline'; font-src https:; " +
        "form-action http://shop.test; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(headers).toMatchObject({
      'X-Frame-Options': 'DENY',
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
  });
});
