/**
 * Escaping by default for server-rendered pages: the gateway's (src/http/pages/) and the demo shop's
 * (src/demo-shop/), which is why it lives in lib/ and imports nothing.
 *
 * `html` is a tagged template whose interpolations are HTML-escaped unless they are already `SafeHtml`
 * (the result of another `html` template, or of `raw()` on a trusted constant). Arrays are rendered item by
 * item with the same rule, and `null`, `undefined` and `false` render as nothing so `${cond && html`…`}`
 * works. Anything else that is not a string or number is refused, so an object never leaks as
 * "[object Object]".
 *
 * Invariant: every attribute in our templates is double-quoted. The escaper also encodes `'` and `` ` ``, so
 * an interpolated value can never leave its attribute, whichever quote a template uses. Escaping does not make
 * a URL safe to follow — use `safeHttpUrl()` for URLs that come from merchants.
 */

const SAFE = Symbol('SafeHtml');

export type SafeHtml = { readonly [SAFE]: true; readonly value: string; toString(): string };

export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

function makeSafe(value: string): SafeHtml {
  return { [SAFE]: true, value, toString: () => value };
}

export function isSafeHtml(value: unknown): value is SafeHtml {
  return typeof value === 'object' && value !== null && (value as { [SAFE]?: unknown })[SAFE] === true;
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for use in element content and in quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (char) => ESCAPES[char] ?? char);
}

/** Marks a trusted string as HTML. Only for constants written in our own code, never for input. */
export function raw(trusted: string): SafeHtml {
  return makeSafe(trusted);
}

function renderValue(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (typeof value === 'string') return escapeHtml(value);
  if (typeof value === 'number') return escapeHtml(String(value));
  if (Array.isArray(value)) return value.map((item: HtmlValue) => renderValue(item)).join('');
  if (isSafeHtml(value)) return value.value;
  throw new TypeError(`Cannot interpolate a value of type ${typeof value} into HTML`);
}

/**
 * A template's own text without the indentation of its source lines: a newline followed by spaces or tabs
 * becomes the newline alone, which renders the same wherever white space collapses (none of our templates has
 * a `<pre>`, a `<textarea>` or `white-space: pre` text in its own text). About 15 % of the hosted page's bytes
 * were indentation, and every byte is written to the socket of every response. Interpolated values are never
 * touched. Worked out once per template (a tagged template's strings array is the same object every call).
 */
const compactedTemplates = new WeakMap<TemplateStringsArray, readonly string[]>();
const INDENTATION = /\n[ \t]+/g;

function compacted(strings: TemplateStringsArray): readonly string[] {
  let texts = compactedTemplates.get(strings);
  if (texts === undefined) {
    texts = strings.map((text) => text.replace(INDENTATION, '\n'));
    compactedTemplates.set(strings, texts);
  }
  return texts;
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  const texts = compacted(strings);
  let out = texts[0] ?? '';
  for (let i = 0; i < values.length; i++) {
    out += renderValue(values[i]) + (texts[i + 1] ?? '');
  }
  return makeSafe(out);
}

/**
 * The URL as a string when it is an absolute http(s) URL, otherwise null. Used for merchant-supplied links
 * (return to the store) so `javascript:` and `data:` URLs can never be rendered as a link target.
 */
export function safeHttpUrl(url: string | undefined): string | null {
  if (!url) return null;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' || parsed.protocol === 'http:' ? parsed.href : null;
  } catch {
    return null;
  }
}

const IMAGE_DATA_URL = /^data:image\/(?:png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+=*$/;

/**
 * The logo URL when the page's CSP (`img-src 'self' https: data:`) would load it and it cannot act as
 * anything but an image: an https URL, a same-origin absolute path, or a base64 image data URL.
 */
export function safeImageUrl(url: string | undefined): string | null {
  if (!url) return null;
  if (url.startsWith('/') && !url.startsWith('//') && !url.includes('\\')) return url;
  if (IMAGE_DATA_URL.test(url)) return url;
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'https:' ? parsed.href : null;
  } catch {
    return null;
  }
}
