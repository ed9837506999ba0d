import { type DefaultTreeAdapterTypes, parse } from 'parse5';
import { describe, expect, it } from 'vitest';
import { sanitizeCallbackHtml } from '../../../src/modules/callbacks/callback-html.ts';

/**
 * Parser-differential (mutation XSS) corpus: strings on which htmlparser2 — the sanitiser's parser — and a
 * browser build different trees, so that markup the sanitiser took for text becomes live in the browser.
 * Whatever the input, the served page parsed the WHATWG way (parse5, with scripting on and off: a sandboxed
 * document parses `<noscript>` with scripting off) must hold no event handler, no script, no foreign content
 * and no javascript: URL.
 */

const HANDLER = '<img src=x onerror=alert(1)>';
const RAW_TEXT = ['textarea', 'title', 'style', 'script', 'xmp', 'iframe', 'noembed', 'noframes', 'noscript'];
const CLOSERS = ['</X/>', '</X >', '</X\t/>', '</X foo="bar">', '</X\n>', '</X//>', '</X/ >'];

// prettier-ignore
export const DIFFERENTIAL_CORPUS: string[] = [
  ...RAW_TEXT.flatMap((tag) =>
    CLOSERS.flatMap((closer) => [
      `<${tag}>${closer.replace('X', tag)}${HANDLER}`,
      `<${tag.toUpperCase()}>${closer.replace('X', tag.toUpperCase())}${HANDLER}`,
      `<${tag}></${tag}${closer.slice(3)}${HANDLER}</${tag}>`,
    ]),
  ),
  ...RAW_TEXT.map((tag) => `<${tag}>${HANDLER}</${tag}>`),
  ...RAW_TEXT.map((tag) => `<${tag}><p title="</${tag}>${HANDLER}">`),
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '<noscript><style></noscript><img src=x onerror=alert(1)></style>',
  '<svg><style><img src=x onerror=alert(1)></style></svg>',
  '<svg></p><style><a id="</style><img src=1 onerror=alert(1)>">',
  '<svg><p><style><img src=x onerror=alert(1)>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src onerror=alert(1)>"></style></h1>',
  '<form><math><mtext></form><form><mglyph><style></math><img src onerror=alert(1)>',
  '<math><mi><mglyph><svg><mtext><textarea><path id="</textarea><img onerror=alert(1) src=1>">',
  '<select><style></select><img src=x onerror=alert(1)></style>',
  '<option><style></option></select><b><img src=xx: onerror=alert(1)></style></option>',
  '<table><style></table><img src=x onerror=alert(1)></style>',
  '<!--><img src=x onerror=alert(1)>-->',
  '<!---><img src=x onerror=alert(1)>-->',
  '<!-- --!><img src=x onerror=alert(1)>-->',
  '<!--!><img src=x onerror=alert(1)>-->',
  '<!--<img src=x onerror=alert(1)>-->',
  '<!-- <textarea> --><img src=x onerror=alert(1)><!-- </textarea> -->',
  '<![CDATA[><img src=x onerror=alert(1)>]]>',
  '<svg><![CDATA[><img src=x onerror=alert(1)>]]></svg>',
  '<? ><img src=x onerror=alert(1)> ?>',
  '<!DOCTYPE html ><img src=x onerror=alert(1)>',
  '<!doctype html PUBLIC "><img src=x onerror=alert(1)>">',
  '<a href="&#106;avascript:alert(1)">x</a>',
  '<a href="java&#x09;script:alert(1)">x</a>',
  '<a href=" javascript:alert(1)">x</a>',
  '<a href="javascript&colon;alert(1)">x</a>',
  '<form action="javascript:alert(1)"><button>x</button></form>',
  '<form id="f"></form><button form="f" formaction="javascript:alert(1)">x</button>',
  '<img src="x" onerror="alert(1)"/onload="alert(2)">',
  '<img/src=x/onerror=alert(1)>',
  '<img src=x onerror\t=alert(1)>',
  '<p/onclick=alert(1)>x</p>',
  '<div <img src=x onerror=alert(1)>>',
  '<plaintext><img src=x onerror=alert(1)>',
  '<template><img src=x onerror=alert(1)></template>',
  '<textarea><textarea/><img src=x onerror=alert(1)></textarea>',
  '<title><title/><img src=x onerror=alert(1)></title>',
  '<style>@import "x"</style/><img src=x onerror=alert(1)>',
  '<a title="<textarea></textarea/><img src=x onerror=alert(1)>">x</a>',
];

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
