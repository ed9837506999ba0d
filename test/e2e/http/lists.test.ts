/**
 * Lists (docs/api-conventions.md §7–8) on real rows, for the lists whose own tests page little: payment links,
 * webhook endpoints and an event's deliveries — forward and back across pages, cursors of another list,
 * type or merchant refused with 400 `invalid_cursor`, and the `created_*` bounds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import { createLink } from '../payment-links/payment-link-fixtures.ts';

type Item = { id?: string; payment_link_id?: string; created_at?: string };
type Page = { object: string; data: Item[]; has_more: boolean; next_cursor: string | null };

const clock = createManualClock(new Date('2026-03-01T12:00:00.000Z'));
let t: TestApp;
let merchant: TestMerchant;
const links: string[] = [];
const endpoints: string[] = [];

beforeAll(async () => {
  t = await createTestApp({ clock });
  merchant = await t.createMerchant();
  for (let index = 0; index < 3; index += 1) {
    links.push((await createLink(t, merchant)).payment_link_id);
    const endpoint = await t.app.inject({
      method: 'POST',
      url: '/v1/webhook-endpoints',
      headers: merchant.headers,
      payload: { url: `https://hooks.example/${index}`, enabled_events: ['payment.succeeded'] },
    });
    expect(endpoint.statusCode, endpoint.body).toBe(201);
    endpoints.push(endpoint.json().id);
    clock.advance(60);
  }
});
afterAll(() => t.close());

const get = (url: string, who: TestMerchant = merchant) =>
  t.app.inject({ method: 'GET', url, headers: who.headers });
const page = async (url: string) => {
  const response = await get(url);
  expect(response.statusCode, `${url}: ${response.body}`).toBe(200);
  return response.json() as Page;
};
// A payment link's id is `payment_link_id` (docs/api-conventions.md, deviation D4).
const idsOf = (body: Page) => body.data.map((item) => item.id ?? item.payment_link_id);

describe.each([
  { path: '/v1/payment-links', created: () => links },
  { path: '/v1/webhook-endpoints', created: () => endpoints },
])('$path', ({ path, created }) => {
  it('pages newest first, forward and back, in the one envelope', async () => {
    const [oldest, middle, newest] = created() as [string, string, string];
    const first = await page(`${path}?limit=2`);
    expect(first).toMatchObject({ object: 'list', has_more: true, next_cursor: middle });
    expect(idsOf(first)).toEqual([newest, middle]);
    const second = await page(`${path}?limit=2&starting_after=${first.next_cursor}`);
    expect(second).toMatchObject({ has_more: false, next_cursor: null });
    expect(idsOf(second)).toEqual([oldest]);
    const back = await page(`${path}?limit=1&ending_before=${oldest}`);
    expect(back).toMatchObject({ has_more: true, next_cursor: middle });
    expect(idsOf(back)).toEqual([middle]);
    const front = await page(`${path}?limit=1&ending_before=${back.next_cursor}`);
    expect(front).toMatchObject({ has_more: false, next_cursor: null });
    expect(idsOf(front)).toEqual([newest]);
  });

  it('bounds by creation time', async () => {
    const [oldest, middle, newest] = created() as [string, string, string];
    const all = await page(path);
    // The middle object's time as shown (milliseconds; the column may hold microseconds beyond them).
    const shown = all.data.find((item) => (item.id ?? item.payment_link_id) === middle)!.created_at!;
    const at = encodeURIComponent(shown);
    expect(idsOf(await page(`${path}?created_gte=${at}`))).toEqual([newest, middle]);
    expect(idsOf(await page(`${path}?created_lt=${at}`))).toEqual([oldest]);
    if (path === '/v1/payment-links') {
      // Created on the test clock: exact instants, so the exclusive and inclusive bounds differ at them.
      expect(idsOf(await page(`${path}?created_gt=${at}`))).toEqual([newest]);
      expect(idsOf(await page(`${path}?created_lte=${at}`))).toEqual([middle, oldest]);
    }
    const later = encodeURIComponent(new Date(Date.parse(shown) + 1).toISOString());
    expect(idsOf(await page(`${path}?created_gt=${at}&created_lt=${later}`))).not.toContain(oldest);
  });

  it('refuses a cursor that is not one of its objects with 400 invalid_cursor', async () => {
    const stranger = await t.createMerchant();
    const theirs = (await createLink(t, stranger)).payment_link_id as string;
    const otherList = path === '/v1/payment-links' ? endpoints[0]! : links[0]!;
    for (const cursor of [
      'garbage',
      otherList,
      theirs,
      `${created()[0]!.split('_')[0]}_00000000000000000000000000000000`,
    ]) {
      for (const name of ['starting_after', 'ending_before']) {
        const problem = expectProblem(await get(`${path}?${name}=${cursor}`));
        expect(problem, `${name}=${cursor}`).toMatchObject({ status: 400, code: 'invalid_cursor' });
      }
    }
  });
});

describe('/v1/events/{id}/deliveries', () => {
  it('refuses another event’s delivery as a cursor', async () => {
    const events = await page('/v1/events?limit=100');
    const [event] = events.data;
    expect(event).toBeDefined();
    const deliveries = await page(`/v1/events/${event!.id}/deliveries`);
    expect(deliveries).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    const problem = expectProblem(
      await get(`/v1/events/${event!.id}/deliveries?starting_after=${event!.id}`),
    );
    expect(problem).toMatchObject({ status: 400, code: 'invalid_cursor' });
  });
});
