import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { redactUrl } from '../../../src/http/logging.ts';
import { createTestApp, type TestApp } from '../../fixtures/test-app.ts';

/**
 * No log line carries a bearer part of a URL: hosted-page and payment-link signatures, the callback proxy's
 * signature, sandbox decision references, `client_token` / `kassa_token` and the like. The lines are read from
 * the app's own pino destination stream, so this covers Fastify's lines and messages (which quote the raw URL),
 * not only our request serializer.
 */
describe('log redaction', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());
  beforeEach(() => {
    t.logs.length = 0;
  });

  const SECRET = 'f00dfacecafebabe0123456789abcdef0123456789abcdef0123456789abcdef';
  const TOKEN = 'ct_test_9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e';

  function lines() {
    return t.logs.join('').trim().split('\n');
  }

  it('masks every signed path segment and token parameter on the request lines', async () => {
    const urls = [
      `/pay/chk_00000000000000000000000000000000/${SECRET}`,
      `/pay/chk_00000000000000000000000000000000/${SECRET}/cancel`,
      `/l/plink_00000000000000000000000000000000/${SECRET}`,
      `/callback-proxy/${SECRET}?url=http%3A%2F%2Fshop.example%2Fa.png`,
      `/sandbox/3ds/${SECRET}`,
      `/sandbox/wallet/${SECRET}`,
      `/demo/link/landing?kassa_link=plink_1&kassa_session=chk_1&kassa_token=${TOKEN}`,
      `/v1/checkouts/chk_1/payment-methods?client_token=${TOKEN}`,
      `/nowhere?token=${TOKEN}&x=1`,
    ];
    for (const url of urls) await t.app.inject({ url });
    await t.app.inject({ method: 'POST', url: `/pay/chk_00000000000000000000000000000000/${SECRET}` });

    const logged = lines();
    // One line per request (written when it completes: src/metrics/request-log.ts).
    expect(logged.filter((line) => line.includes('"request completed"'))).toHaveLength(urls.length + 1);
    for (const line of logged) JSON.parse(line); // still one JSON document per line
    const text = t.logs.join('');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
    expect(text).toContain('/pay/chk_00000000000000000000000000000000/[redacted]');
    expect(text).toContain('kassa_token=[redacted]');
  });

  it('masks URLs quoted in messages, error messages and stacks (as Fastify quotes the raw URL)', async () => {
    const url = `/pay/chk_1/${SECRET}?kassa_token=${TOKEN}`;
    t.app.log.warn({ err: new Error(`Reply was already sent for "${url}"`) }, `failed at "${url}"`);
    t.app.log.error({ detail: { location: `https://shop.example/l/plink_1/${SECRET}` } }, 'nested');
    const logged = lines();
    expect(logged).toHaveLength(2);
    for (const line of logged) JSON.parse(line);
    const text = t.logs.join('');
    expect(text).toContain('Reply was already sent');
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(TOKEN);
  });

  it('redactUrl leaves what is not a secret alone', () => {
    expect(redactUrl('/v1/checkouts/chk_1?limit=10')).toBe('/v1/checkouts/chk_1?limit=10');
    expect(redactUrl('/public/checkout.js')).toBe('/public/checkout.js');
    expect(redactUrl(`/pay/chk_1/${SECRET}/return/pay_1`)).toBe('/pay/chk_1/[redacted]/return/pay_1');
    expect(redactUrl(`/x?a=1&kassa_token=${TOKEN}#f`)).toBe('/x?a=1&kassa_token=[redacted]#f');
  });
});
