import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HtmlValue } from '../../src/lib/html.ts';
import { escapeHtml, html, isSafeHtml, raw, safeHttpUrl, safeImageUrl } from '../../src/lib/html.ts';
import { listTags } from './pages/page-fixtures.ts';

describe('html tagged template', () => {
  it('escapes interpolated text in content and in attributes', () => {
    const name = `<script>alert("x")</script> & 'quoted' \`tick\``;
    const out = html`<p title="${name}">${name}</p>`.value;
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &#96;tick&#96;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;quoted&#39; &#96;tick&#96;</p>',
    );
  });

  it('keeps nested templates and raw() as markup, but escapes plain strings', () => {
    const inner = html`<b>${'<i>'}</b>`;
    expect(html`<p>${inner}${raw('<br />')}${'<br />'}</p>`.value).toBe(
      '<p><b>&lt;i&gt;</b><br />&lt;br /&gt;</p>',
    );
    expect(isSafeHtml(inner)).toBe(true);
    expect(isSafeHtml('<b>')).toBe(false);
  });

  it('renders arrays item by item and skips null, undefined and false', () => {
    const items: HtmlValue[] = ['a<', html`<em>b</em>`, null, undefined, false, 3];
    expect(html`<p>${items}</p>`.value).toBe('<p>a&lt;<em>b</em>3</p>');
  });

  it('refuses to interpolate plain objects (no "[object Object]" and no forged SafeHtml)', () => {
    const forged = { value: '<script>alert(1)</script>' } as unknown as string;
    expect(() => html`<p>${forged}</p>`).toThrow(TypeError);
  });

  it('never lets an interpolated string create a tag or an attribute', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('<', '>', '"', "'", '`', '=', ' ', 'a', 'o', 'n', '/', '&') }),
        (s) => {
          const out = html`<div class="c" title="${s}">${s}</div>`.value;
          const tags = listTags(out);
          expect(tags.map((t) => t.name)).toEqual(['div']);
          expect([...tags[0]!.attributes.keys()]).toEqual(['class', 'title']);
        },
      ),
    );
  });

  it('escapeHtml leaves ordinary text alone', () => {
    expect(escapeHtml('Café ¥1,000 — ok')).toBe('Café ¥1,000 — ok');
  });
});

describe('URL guards', () => {
  it('safeHttpUrl accepts only absolute http(s) URLs', () => {
    expect(safeHttpUrl('https://shop.example/orders/1?x=1')).toBe('https://shop.example/orders/1?x=1');
    expect(safeHttpUrl('http://127.0.0.1:8080/')).toBe('http://127.0.0.1:8080/');
    for (const bad of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'data:text/html,<b>',
      '/relative',
      '',
      undefined,
    ]) {
      expect(safeHttpUrl(bad)).toBeNull();
    }
  });

  it('safeImageUrl accepts https, same-origin paths and base64 image data URLs only', () => {
    expect(safeImageUrl('https://cdn.example/logo.png')).toBe('https://cdn.example/logo.png');
    expect(safeImageUrl('/public/logos/m.png')).toBe('/public/logos/m.png');
    expect(safeImageUrl('data:image/png;base64,iVBORw0KGgo=')).toBe('data:image/png;base64,iVBORw0KGgo=');
    for (const bad of [
      'http://cdn.example/logo.png',
      '//evil.example/logo.png',
      'javascript:alert(1)',
      'data:text/html;base64,PHNjcmlwdD4=',
      '/\\evil.example',
    ]) {
      expect(safeImageUrl(bad)).toBeNull();
    }
  });
});

describe('template indentation', () => {
  it("drops the indentation of a template's own lines, never white space of interpolated values", () => {
    const text = 'line one\n    indented';
    const out = html`<ul>
      <li>${text}</li>
      <li class="x">b</li>
    </ul>`.value;
    expect(out).toBe('<ul>\n<li>line one\n    indented</li>\n<li class="x">b</li>\n</ul>');
  });
});
