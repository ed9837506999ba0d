import { randomBytes } from 'node:crypto';

/**
 * Rendered pages kept as templates, so a page shown again with the same content costs a string join instead
 * of a render (the checkout page took ~50–110 µs to render, more than everything else of its request).
 *
 * What makes this safe:
 * - The cache is keyed by the WHOLE render model (its JSON), read from the database for this very request:
 *   a checkout that is paid, expired or changed renders another page (or another model), never an old one.
 *   The renderers it wraps are pure functions of their model (no clock, no randomness, no I/O).
 * - The two values that must be new in every response, the CSP nonce and the CSRF token, are not part of the
 *   key: the page is rendered once with random slot markers in their place, and each response fills the slots
 *   with its own values. The markers are 128 random bits made at start-up, so no merchant or shopper text can
 *   contain one, and they are plain `[0-9a-z]`, which HTML escaping leaves as they are. The values filled in
 *   (base64 nonce, `digits.base64url` token) need no escaping either, so the output is byte for byte what a
 *   direct render would have given.
 * - Bounded: least recently used entries go first, so memory stays a few MB whatever the traffic.
 *
 * The page leaves as UTF-8 bytes: the template's text is encoded once, when it is made, and each response is
 * a copy of those bytes with its two values (ASCII) in between. Answering with the string instead cost ≈ 40 µs
 * a page (≈ 10 % of its CPU): one character outside Latin-1 (the "…" of a label) makes the whole 12 KB page a
 * two-byte string that was measured (Content-Length), flattened and transcoded to UTF-8 on every response.
 */

/** What changes in every response: filled into the template's slots. */
export type ResponseSecrets = { nonce: string; csrfToken: string };

const NONCE_SLOT = `kn${randomBytes(16).toString('hex')}`;
const CSRF_SLOT = `kc${randomBytes(16).toString('hex')}`;
const SLOTS = new RegExp(`(${NONCE_SLOT}|${CSRF_SLOT})`);
const SLOT_SHAPE = /^[A-Za-z0-9+/=._-]*$/;

/** The page cut at its slots: UTF-8 text, slot, text, slot, …, text (odd indexes are slot markers). */
type PageTemplate = { texts: readonly Buffer[]; slots: readonly string[]; textBytes: number };

function templateOf(page: string): PageTemplate {
  const parts = page.split(SLOTS);
  const texts = parts.filter((_, i) => i % 2 === 0).map((text) => Buffer.from(text, 'utf8'));
  const slots = parts.filter((_, i) => i % 2 === 1);
  return { texts, slots, textBytes: texts.reduce((sum, text) => sum + text.length, 0) };
}

function fill(template: PageTemplate, secrets: ResponseSecrets): Buffer {
  const { texts, slots } = template;
  // The values are ASCII (SLOT_SHAPE), so each is as many bytes as characters.
  const values = slots.map((slot) => (slot === NONCE_SLOT ? secrets.nonce : secrets.csrfToken));
  const out = Buffer.allocUnsafe(values.reduce((sum, value) => sum + value.length, template.textBytes));
  let offset = texts[0]!.copy(out, 0);
  for (let i = 0; i < values.length; i++) {
    offset += out.write(values[i]!, offset, 'latin1');
    offset += texts[i + 1]!.copy(out, offset);
  }
  if (offset !== out.length) throw new Error('page template: filled size differs from the computed size');
  return out;
}

/**
 * Wraps a pure `render(model, slots)` in a bounded template cache. The returned function renders `model`
 * with this response's nonce and CSRF token, as UTF-8 bytes, from the cache when the same model was rendered
 * before.
 */
export function createPageTemplateCache<Model>(
  render: (model: Model, secrets: ResponseSecrets) => string,
  maxEntries = 500,
): (model: Model, secrets: ResponseSecrets) => Buffer {
  const templates = new Map<string, PageTemplate>();
  return (model, secrets) => {
    // A value that would need escaping would not be what a direct render gives: render those directly.
    if (!SLOT_SHAPE.test(secrets.nonce) || !SLOT_SHAPE.test(secrets.csrfToken))
      return Buffer.from(render(model, secrets), 'utf8');
    const key = JSON.stringify(model);
    let template = templates.get(key);
    if (template) {
      // Most recently used last: the Map's first key is always the one to evict.
      templates.delete(key);
    } else {
      template = templateOf(render(model, { nonce: NONCE_SLOT, csrfToken: CSRF_SLOT }));
      if (templates.size >= maxEntries) templates.delete(templates.keys().next().value!);
    }
    templates.set(key, template);
    return fill(template, secrets);
  };
}
