/**
 * `GET /callback-proxy/{signature}?url=…`: the http: images and stylesheets of callback pages, fetched through
 * egress. Only signed URLs, only http:, only images and stylesheets, at most 2 MiB, never a redirect followed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyPathFor } from '../../../src/modules/callbacks/callback-proxy-url.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';
import {
  RECEIVER_ALLOW_LIST_ENV,
  startCallbackReceiver,
  type CallbackReceiver,
} from './callback-fixtures.ts';

let t: TestApp;
let receiver: CallbackReceiver;

// A 1×1 transparent PNG.
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
  'base64',
);

beforeAll(async () => {
  t = await createTestApp({ env: RECEIVER_ALLOW_LIST_ENV });
  receiver = await startCallbackReceiver();
  receiver.on('/logo.png', { status: 200, headers: { 'content-type': 'image/png' }, body: PNG });
  receiver.on('/page.html', {
    status: 200,
    headers: { 'content-type': 'text/html' },
    body: '<script>alert(1)</script>',
  });
  receiver.on('/missing.png', { status: 404, body: 'no' });
  receiver.on('/moved.png', { status: 302, headers: { location: '/logo.png' } });
  receiver.on('/huge.png', {
    status: 200,
    headers: { 'content-type': 'image/png' },
    body: Buffer.alloc(2 * 1024 * 1024 + 1),
  });
  receiver.on('/css/site.css', {
    status: 200,
    headers: { 'content-type': 'text/css' },
    body: 'body{background:url(../img/bg.png)} h1{background:url("https://cdn.example/h.png")} .x{background:url(javascript:alert(1))}',
  });
});

afterAll(async () => {
  await receiver.close();
  await t.close();
});

function proxied(url: string) {
  return t.app.inject({ method: 'GET', url: proxyPathFor(t.services.keyring, url) });
}

describe('callback proxy', () => {
  it('serves a signed http image with its declared type, nosniff and a sandboxing CSP', async () => {
    const response = await proxied(`${receiver.url}/logo.png`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('image/png');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(String(response.headers['content-security-policy'])).toContain('sandbox');
    expect(response.rawPayload.equals(PNG)).toBe(true);
  });

  it('refuses a wrong or borrowed signature before any request leaves', async () => {
    const before = receiver.received.length;
    const good = proxyPathFor(t.services.keyring, `${receiver.url}/logo.png`);
    const signature = good.split('/')[2]!.split('?')[0]!;
    const borrowed = await t.app.inject({
      method: 'GET',
      url: `/callback-proxy/${signature}?url=${encodeURIComponent(`${receiver.url}/page.html`)}`,
    });
    expect(borrowed.statusCode).toBe(404);
    const forged = await t.app.inject({
      method: 'GET',
      url: `/callback-proxy/${'A'.repeat(43)}?url=${encodeURIComponent(`${receiver.url}/logo.png`)}`,
    });
    expect(forged.statusCode).toBe(404);
    expect(receiver.received.length).toBe(before);
  });

  it('forwards nothing but images and stylesheets', async () => {
    const response = await proxied(`${receiver.url}/page.html`);
    expect(response.statusCode).toBe(502);
    expect(response.body).toBe('');
  });

  it('does not forward error answers, redirects (not followed) or more than 2 MiB', async () => {
    expect((await proxied(`${receiver.url}/missing.png`)).statusCode).toBe(502);
    const before = receiver.receivedAt('/logo.png').length;
    expect((await proxied(`${receiver.url}/moved.png`)).statusCode).toBe(502);
    expect(receiver.receivedAt('/logo.png').length).toBe(before);
    expect((await proxied(`${receiver.url}/huge.png`)).statusCode).toBe(502);
  });

  it('proxies only http: URLs (https ones load directly)', async () => {
    const response = await proxied('https://cdn.example/logo.png');
    expect(response.statusCode).toBe(404);
  });

  it("rewrites a proxied stylesheet's URLs relative to the stylesheet", async () => {
    const response = await proxied(`${receiver.url}/css/site.css`);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(response.body).toContain(
      `url("${proxyPathFor(t.services.keyring, `${receiver.url}/img/bg.png`)}")`,
    );
    expect(response.body).toContain('url("https://cdn.example/h.png")');
    expect(response.body).not.toContain('javascript:');
  });
});
