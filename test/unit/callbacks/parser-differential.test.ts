import { type DefaultTreeAdapterTypes, parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import { sanitizeCallbackHtml } from '../../../src/modules/callbacks/callback-html.ts';
import { DIFFERENTIAL_CORPUS } from './differential-corpus.ts';

/**
 * Whatever the input, the served page parsed the WHATWG way (parse5, with scripting on and off: a sandboxed
 * document parses `<noscript>` with scripting off) must hold no event handler, no script, no foreign content
 * and no javascript: URL. The corpus is in differential-corpus.ts (Chromium's verdict on it:
 * test/browser/callback-differential.test.ts).
 */

type Node = DefaultTreeAdapterTypes.Node;

function* elements(node: Node): Generator<DefaultTreeAdapterTypes.Element> {
  if ('tagName' in node) yield node;
  if ('content' in node && node.content) yield* elements(node.content as unknown as Node);
  if ('childNodes' in node) for (const child of node.childNodes) yield* elements(child);
}

/** Violations of "inert" in the page as a WHATWG parser reads it (empty: inert). */
export function activeContentIn(html: string): string[] {
  const found: string[] = [];
  for (const scriptingEnabled of [true, false]) {
    for (const element of elements(parse(html, { scriptingEnabled }))) {
      if (
        /^(script|iframe|frame|object|embed|svg|math|base|template|portal|noscript)$/.test(element.tagName)
      ) {
        found.push(`<${element.tagName}>`);
      }
      if (element.namespaceURI !== 'http://www.w3.org/1999/xhtml') found.push(`foreign ${element.tagName}`);
      for (const attr of element.attrs) {
        if (/^on/i.test(attr.name)) found.push(`${element.tagName}[${attr.name}]`);
        // A URL's scheme as a browser reads it: control characters and white space inside it are ignored.
        const scheme = [...attr.value]
          .filter((char) => char.charCodeAt(0) > 0x20)
          .join('')
          .toLowerCase();
        if (/^(javascript|vbscript):/.test(scheme))
          found.push(`${element.tagName}[${attr.name}=${attr.value}]`);
        if (/^(formaction|srcset|ping|target)$/.test(attr.name))
          found.push(`${element.tagName}[${attr.name}]`);
      }
    }
  }
  return found;
}

const clean = (html: string) =>
  sanitizeCallbackHtml(html, {
    pageUrl: 'https://shop.test/ok',
    proxy: (url) => `/callback-proxy/S?url=${url}`,
  }).html;

describe('callback page sanitiser against parser differentials', () => {
  it.each(DIFFERENTIAL_CORPUS)('%j comes out inert to a WHATWG parser', (input) => {
    const output = clean(input);
    expect(activeContentIn(output), output).toEqual([]);
  });

  it('serves a fixed point: what a browser parses back is exactly the markup that was checked', () => {
    for (const input of DIFFERENTIAL_CORPUS) {
      const output = clean(input);
      expect(clean(output), input).toBe(output);
    }
  });

  it('keeps ordinary raw-text-adjacent content readable', () => {
    const output = clean('<title>Thanks &amp; bye</title><textarea name="note"></textarea><p>a &lt; b</p>');
    expect(output).toContain('<title>Thanks &amp; bye</title>');
    expect(output).toContain('<textarea name="note"></textarea>');
    expect(output).toContain('<p>a &lt; b</p>');
  });
});
