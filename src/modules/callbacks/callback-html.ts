import { type DefaultTreeAdapterTypes, html as parse5Html, parse, serialize } from 'parse5';
import sanitizeHtml from 'sanitize-html';
import {
  parseAbsolute,
  rewriteCssUrls,
  rewriteFormAction,
  rewriteNavigationUrl,
  rewriteResourceUrl,
} from './callback-html-urls.ts';

/**
 * Makes a merchant's callback answer safe to serve to the shopper from Kassa's origin (docs/callbacks.md: active
 * content is stripped, http resources are proxied, links and forms are rewritten so that the page works as if
 * it was served directly).
 *
 * Two layers, each enough on its own for scripts:
 * 1. this sanitiser (`sanitize-html`, allow-list based): no `<script>`, no event-handler attributes, no
 *    `javascript:` / `vbscript:` / non-image `data:` URLs, no `<iframe>` / `<object>` / `<embed>` / `<svg>` /
 *    `<math>` / `<template>` (their content is dropped too), no `<base>`, no `<meta>` but `viewport` (so no
 *    refresh, no charset, no referrer override), no `<link>` but stylesheets, no `target`, `ping`,
 *    `formaction`, `srcset` or `background` attributes;
 * 2. the page's CSP (`callbackPageHeaders`): `sandbox` without `allow-scripts`, `default-src 'none'`, …
 *
 * Parser differentials (mutation XSS): `sanitize-html` parses with htmlparser2, which does not follow the
 * WHATWG tree-building rules browsers use (`</textarea/>`, raw-text elements, comments such as `<!-->`, foreign
 * content, `<noscript>`). So the page goes through parse5 — a WHATWG-compliant parser, i.e. the browser's view —
 * on both sides: the input is parsed and re-serialised by parse5 before the sanitiser sees it (the serialisation
 * is unambiguous, so htmlparser2 and a browser build the same tree from it), and the sanitiser's output is parsed
 * again by parse5, checked against the same allow-list on that tree (anything that is not an allowed HTML element
 * or attribute goes, with its content), and re-serialised by parse5. The page is served only once that
 * serialisation is a fixed point (parsing it again yields the same markup): what the browser parses is exactly
 * the tree that was checked. Otherwise the page is served empty.
 *
 * Phishing (a page on Kassa's origin asking for card data or a password): password inputs and card-like
 * fields (`isCardLikeField`) are removed, and the CSP limits where forms may post (`callbackPageHeaders`).
 *
 * Rewriting, against the callback URL (or the merchant's own `<base href>`, honoured for resolution and then
 * removed): relative `href` / `src` / `action` become absolute merchant URLs; fragment-only links (`#top`)
 * stay in-page; `http:` images and stylesheets — in attributes, `<style>` blocks and `style` attributes —
 * become signed same-origin proxy paths; `https:` resources load directly. A form without an action posts
 * to the merchant's page URL (never to Kassa). CSS rewriting is best effort (escaped `url()` forms are not
 * recognised); the CSP is what enforces where the page may load from.
 */

export { rewriteCssUrls } from './callback-html-urls.ts';

export type CallbackHtmlOptions = {
  /** The callback URL that answered: the page's address "as if it was served directly". */
  pageUrl: string;
  /** A same-origin path that serves this absolute `http:` URL through the signed proxy. */
  proxy: (httpUrl: string) => string;
};

/**
 * A field that asks for card data or a password, which a merchant page served from Kassa's origin must not do
 * (docs/callbacks.md): `type=password`; an `autocomplete` token starting `cc-` (cc-number, cc-csc, cc-exp, …);
 * a `name` or `id` that mentions card data (`card`, `cvc`, `cvv`, `expiry`/`expiration` anywhere; `pan`, `cc`,
 * `csc`, `cvn`, `ccv`, `exp` as a word of it — camelCase, `-`, `_` and digits split words); a numeric keypad
 * field (`inputmode=numeric|decimal|tel`, or `type=number|tel`) whose `maxlength` fits a card number (12–23, with
 * separators) or a security code (3–4). Errs towards removal: a removed field only costs the merchant a field.
 */
export function isCardLikeField(tagName: string, attribs: Record<string, string | undefined>): boolean {
  if (tagName !== 'input' && tagName !== 'select' && tagName !== 'textarea') return false;
  const lower = (name: string) => (attribs[name] ?? '').trim().toLowerCase();
  const type = lower('type');
  if (tagName === 'input' && type === 'password') return true;
  if (
    lower('autocomplete')
      .split(/\s+/)
      .some((token) => token.startsWith('cc-'))
  )
    return true;
  for (const raw of [attribs.name ?? '', attribs.id ?? '']) {
    const flat = raw.toLowerCase().replace(/[^a-z]/g, '');
    if (/card|cvc|cvv|expiry|expiration/.test(flat)) return true;
    const words = raw
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .toLowerCase()
      .split(/[^a-z]+/);
    if (words.some((word) => CARD_WORDS.has(word))) return true;
  }
  const numericKeypad =
    /^(numeric|decimal|tel)$/.test(lower('inputmode')) || type === 'number' || type === 'tel';
  const maxLength = Number.parseInt(lower('maxlength'), 10);
  if (numericKeypad && ((maxLength >= 12 && maxLength <= 23) || maxLength === 3 || maxLength === 4))
    return true;
  return false;
}

const CARD_WORDS = new Set(['pan', 'cc', 'csc', 'cvn', 'ccv', 'exp', 'ccnum', 'ccnumber', 'ccexp']);

export type SanitizedCallbackPage = {
  html: string;
  /** Origins the page's forms post to (for the CSP `form-action`); always includes the page's own origin. */
  formOrigins: string[];
};

// prettier-ignore
const ALLOWED_TAGS = [
  // document structure: kept so the merchant's head (title, styles) stays in the head
  'html', 'head', 'body', 'title', 'meta', 'link', 'style',
  // text and sections
  'address', 'article', 'aside', 'footer', 'header', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hgroup', 'main', 'nav',
  'section', 'blockquote', 'dd', 'div', 'dl', 'dt', 'figcaption', 'figure', 'hr', 'li', 'ol', 'p', 'pre', 'ul',
  'a', 'abbr', 'b', 'bdi', 'bdo', 'br', 'cite', 'code', 'data', 'dfn', 'em', 'i', 'kbd', 'mark', 'q', 's', 'samp',
  'small', 'span', 'strong', 'sub', 'sup', 'time', 'u', 'var', 'wbr', 'del', 'ins', 'center', 'font', 'details',
  'summary', 'caption', 'col', 'colgroup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'tr', 'img',
  // forms (they post to the merchant; the CSP's form-action names where)
  'form', 'input', 'button', 'label', 'select', 'option', 'optgroup', 'textarea', 'fieldset', 'legend',
];

/**
 * Elements removed WITH their content: scripts and styles of disallowed kinds, embedded documents and
 * foreign content (whose parsing differs between browsers and our parser), templates.
 */
// prettier-ignore
const DROPPED_WITH_CONTENT = [
  'script', 'style', 'textarea', 'option', 'xmp', 'iframe', 'frame', 'frameset', 'object', 'embed', 'applet',
  'svg', 'math', 'template', 'noembed', 'noframes', 'canvas', 'video', 'audio', 'portal', 'plaintext',
];

// prettier-ignore
const GLOBAL_ATTRIBUTES = [
  'id', 'class', 'style', 'title', 'lang', 'dir', 'align', 'hidden', 'role', 'aria-*', 'data-*',
];

const ALLOWED_ATTRIBUTES: Record<string, string[]> = {
  '*': GLOBAL_ATTRIBUTES,
  a: ['href', 'name', 'rel', 'hreflang', 'type'],
  img: ['src', 'alt', 'width', 'height', 'border'],
  link: ['rel', 'href', 'media', 'type'],
  meta: ['name', 'content'],
  body: ['bgcolor', 'text', 'link', 'vlink', 'alink'],
  table: ['width', 'border', 'cellpadding', 'cellspacing', 'bgcolor', 'summary'],
  td: ['colspan', 'rowspan', 'valign', 'width', 'height', 'bgcolor', 'nowrap', 'headers', 'scope'],
  th: ['colspan', 'rowspan', 'valign', 'width', 'height', 'bgcolor', 'nowrap', 'headers', 'scope'],
  tr: ['valign', 'bgcolor'],
  col: ['span', 'width'],
  colgroup: ['span', 'width'],
  font: ['color', 'face', 'size'],
  ol: ['start', 'type', 'reversed'],
  ul: ['type'],
  li: ['value', 'type'],
  time: ['datetime'],
  data: ['value'],
  details: ['open'],
  form: ['action', 'method', 'enctype', 'accept-charset', 'name', 'autocomplete', 'novalidate'],
  input: [
    'type',
    'name',
    'value',
    'placeholder',
    'checked',
    'disabled',
    'readonly',
    'required',
    'size',
    'maxlength',
    'minlength',
    'min',
    'max',
    'step',
    'pattern',
    'autocomplete',
    'multiple',
    'alt',
  ],
  button: ['type', 'name', 'value', 'disabled'],
  label: ['for'],
  select: ['name', 'multiple', 'required', 'disabled', 'size', 'autocomplete'],
  option: ['value', 'selected', 'disabled', 'label'],
  optgroup: ['label', 'disabled'],
  textarea: ['name', 'rows', 'cols', 'placeholder', 'required', 'disabled', 'readonly', 'maxlength', 'wrap'],
  fieldset: ['disabled', 'name'],
};

/** The merchant's own `<base href>` (the first one, as browsers do), resolved against the page URL. */
function findBaseHref(html: string, pageUrl: string): string | null {
  if (!/<base/i.test(html)) return null;
  let found: string | null = null;
  sanitizeHtml(html, {
    allowedTags: [],
    allowedAttributes: {},
    onOpenTag: (name, attribs) => {
      if (found === null && name === 'base' && typeof attribs.href === 'string') {
        const url = parseAbsolute(attribs.href, pageUrl);
        if (url && (url.protocol === 'http:' || url.protocol === 'https:')) found = url.href;
      }
    },
  });
  return found;
}

function relIncludes(rel: string | undefined, token: string): boolean {
  return (rel ?? '').toLowerCase().split(/\s+/).includes(token);
}

export function sanitizeCallbackHtml(input: string, options: CallbackHtmlOptions): SanitizedCallbackPage {
  const { pageUrl, proxy } = options;
  const base = findBaseHref(input, pageUrl) ?? pageUrl;
  const formOrigins = new Set<string>([new URL(pageUrl).origin]);
  const resource = (raw: string) => rewriteResourceUrl(raw, base, proxy);
  // Elements to drop entirely, by identity of their attribute object (the sanitiser keeps the object the
  // transform returns as the frame's attributes). Renaming them to a disallowed tag instead would trip a
  // sanitize-html quirk: the rename leaks onto the next element at the same depth.
  const removed = new WeakSet<sanitizeHtml.Attributes>();
  const remove = (tagName: string): sanitizeHtml.Tag => {
    const attribs: sanitizeHtml.Attributes = {};
    removed.add(attribs);
    return { tagName, attribs };
  };

  function transform(tagName: string, attribs: sanitizeHtml.Attributes): sanitizeHtml.Tag {
    const out: sanitizeHtml.Attributes = { ...attribs };
    if (typeof out.style === 'string') out.style = rewriteCssUrls(out.style, resource);
    switch (tagName) {
      case 'a': {
        if (out.href !== undefined) {
          const href = rewriteNavigationUrl(out.href, base);
          if (href) out.href = href;
          else delete out.href;
        }
        return { tagName, attribs: out };
      }
      case 'img': {
        if (out.src !== undefined) {
          const src = resource(out.src);
          if (src) out.src = src;
          else delete out.src;
        }
        return { tagName, attribs: out };
      }
      case 'link': {
        // Only stylesheets: preload / prefetch / dns-prefetch / import / icon … would fetch or resolve more.
        if (!relIncludes(out.rel, 'stylesheet') || out.href === undefined) return remove(tagName);
        const href = resource(out.href);
        if (!href || href.startsWith('data:')) return remove(tagName);
        return { tagName, attribs: { rel: 'stylesheet', href, ...(out.media ? { media: out.media } : {}) } };
      }
      case 'meta': {
        // Only the viewport: refresh, charset (we re-encode as UTF-8), referrer, CSP … are the document's.
        if ((out.name ?? '').toLowerCase() !== 'viewport' || out['http-equiv'] !== undefined) {
          return remove(tagName);
        }
        return { tagName, attribs: { name: 'viewport', content: out.content ?? '' } };
      }
      case 'input':
      case 'select':
      case 'textarea':
        return isCardLikeField(tagName, attribs) ? remove(tagName) : { tagName, attribs: out };
      case 'form': {
        const action = rewriteFormAction(out.action, base, pageUrl);
        // A form that could only post somewhere unsafe is no form at all.
        if (!action) return { tagName: 'div', attribs: {} };
        formOrigins.add(new URL(action).origin);
        out.action = action;
        const method = (out.method ?? 'get').toLowerCase();
        out.method = method === 'post' ? 'post' : 'get';
        return { tagName, attribs: out };
      }
      default:
        return { tagName, attribs: out };
    }
  }

  const sanitized = sanitizeHtml(normaliseWithBrowserParser(input), {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: ALLOWED_ATTRIBUTES,
    disallowedTagsMode: 'discard',
    nonTextTags: DROPPED_WITH_CONTENT,
    allowedSchemes: ['http', 'https', 'mailto', 'tel'],
    allowedSchemesByTag: { img: ['https', 'data'], link: ['https'] },
    allowedSchemesAppliedToAttributes: ['href', 'src', 'action', 'cite'],
    allowProtocolRelative: false,
    // `<style>` is needed for the merchant's design; its content cannot run script (and the CSP forbids it).
    allowVulnerableTags: true,
    parseStyleAttributes: true,
    transformTags: { '*': transform },
    exclusiveFilter: (frame) => removed.has(frame.attribs),
  });

  // The browser's view of the sanitiser's output, checked again on the tree. Standards mode, as the merchant
  // most likely wrote it (the sanitiser drops the doctype with other directives) — and the mode the browser
  // will parse the served page in, so the check parses in it too.
  const document = parse(`<!doctype html>\n${sanitized}`, { scriptingEnabled: false });
  enforceAllowList(document, (css) => rewriteCssUrls(css, resource));
  return { html: serialiseFixedPoint(document), formOrigins: [...formOrigins] };
}

type Parse5Node = DefaultTreeAdapterTypes.Node;
type Parse5Element = DefaultTreeAdapterTypes.Element;
type Parse5ParentNode = DefaultTreeAdapterTypes.ParentNode;

const ALLOWED_TAG_SET = new Set(ALLOWED_TAGS);
const URL_ATTRIBUTES = new Set(['href', 'src', 'action', 'cite']);
/** What a URL attribute may hold once rewritten: absolute http(s) / mailto / tel, a fragment, the proxy path, an image. */
const SAFE_URL_VALUE = /^(?:https?:\/\/|mailto:|tel:|#|\/callback-proxy\/|data:image\/)/i;
const EMPTY_PAGE = '<!DOCTYPE html><html><head></head><body></body></html>';

/** The input as a browser reads it, re-serialised so that htmlparser2 (the sanitiser's parser) reads the same. */
function normaliseWithBrowserParser(input: string): string {
  return serialize(parse(input, { scriptingEnabled: false }));
}

function isAllowedAttribute(tagName: string, name: string): boolean {
  if (name.startsWith('on')) return false;
  if (/^(aria|data)-[a-z0-9_.-]*$/.test(name)) return true;
  return GLOBAL_ATTRIBUTES.includes(name) || (ALLOWED_ATTRIBUTES[tagName] ?? []).includes(name);
}

function isElement(node: Parse5Node): node is Parse5Element {
  return 'tagName' in node;
}

/**
 * The allow-list applied to parse5's tree: only allowed HTML-namespace elements (others go with their content),
 * only allowed attributes with safe URLs, no comments, no password or card-like fields, and `<style>` text
 * with its URLs rewritten (`rewriteStyle`, first pass only) and every `<` as the CSS escape `\3c ` (the same
 * character inside a CSS string, never valid elsewhere in CSS): style text cannot look like markup to any parser.
 */
function enforceAllowList(parent: Parse5ParentNode, rewriteStyle?: (css: string) => string): void {
  parent.childNodes = parent.childNodes.filter((node) => {
    if (node.nodeName === '#comment') return false;
    if (!isElement(node)) return true;
    if (node.namespaceURI !== parse5Html.NS.HTML || !ALLOWED_TAG_SET.has(node.tagName)) return false;
    node.attrs = node.attrs.filter(
      (attr) =>
        attr.namespace === undefined &&
        isAllowedAttribute(node.tagName, attr.name) &&
        (!URL_ATTRIBUTES.has(attr.name) || SAFE_URL_VALUE.test(attr.value.trim())),
    );
    const attribs = Object.fromEntries(node.attrs.map((attr) => [attr.name, attr.value]));
    if (isCardLikeField(node.tagName, attribs)) return false;
    if (node.tagName === 'style') {
      for (const child of node.childNodes) {
        if ('value' in child) {
          const css = rewriteStyle ? rewriteStyle(child.value) : child.value;
          child.value = css.replaceAll('<', '\\3c ');
        }
      }
    }
    enforceAllowList(node, rewriteStyle);
    return true;
  });
}

/**
 * parse5's serialisation of the checked tree, served only when the browser would read it back as the same tree
 * (serialising is not always the inverse of parsing); a page that does not settle within a few rounds is served
 * empty rather than differently from what was checked.
 */
function serialiseFixedPoint(document: DefaultTreeAdapterTypes.Document): string {
  let html = serialize(document);
  for (let round = 0; round < 3; round += 1) {
    const again = parse(html, { scriptingEnabled: false });
    enforceAllowList(again);
    const next = serialize(again);
    if (next === html) return html;
    html = next;
  }
  return EMPTY_PAGE;
}
