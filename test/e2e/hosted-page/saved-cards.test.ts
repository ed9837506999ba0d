import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, expectProblem, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import {
  CARDS,
  cardForm,
  countAuthorizations,
  createHostedCheckout,
  csrfOf,
  getPage,
  paymentsOf,
  postForm,
} from './hosted-fixtures.ts';

/** "Save card" on the hosted page (allow_save_payment_methods), paying with it next time, and removal. */
describe('saved cards', () => {
  let t: TestApp;
  let merchant: TestMerchant;
  beforeAll(async () => {
    t = await createTestApp();
    merchant = await t.createMerchant();
  });
  afterAll(async () => {
    await t?.close();
  });

  const savedRadio = /type="radio"[^>]*value="(pm_[0-9a-f]{44})"/;

  it('offers "Save this card" only when the checkout allows it', async () => {
    const plain = await getPage(t, (await createHostedCheckout(t, merchant)).path);
    expect(plain.html).not.toContain('name="save_card"');
    const allowed = await getPage(
      t,
      (await createHostedCheckout(t, merchant, { allowSave: true, email: 'new@example.com' })).path,
    );
    expect(allowed.html).toContain('name="save_card"');
    expect(allowed.html).toContain('Save this card for my next purchase');
    expect(allowed.html).not.toMatch(savedRadio);
  });

  it('a saved card is offered to the same customer next time, and pays without a CVC', async () => {
    const email = 'grace@example.com';
    const first = await createHostedCheckout(t, merchant, { allowSave: true, email });
    const page = await getPage(t, first.path);
    const paid = await postForm(
      t,
      first.path,
      cardForm(csrfOf(page.html), CARDS.approved, { save_card: 'yes' }),
    );
    expect(paid.status).toBe(303);

    const { rows } = await t.services.db.query<{
      id: string;
      card_last4: string;
      card_brand: string;
      card_encrypted: Buffer;
    }>('SELECT * FROM saved_payment_methods WHERE customer_id = $1', [first.customerId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ card_brand: 'visa', card_last4: '4242' });
    expect(rows[0]!.card_encrypted.toString('latin1')).not.toContain('4242424242424242');

    // Same customer (same e-mail, other case): the card is offered and checked first.
    const second = await createHostedCheckout(t, merchant, {
      allowSave: true,
      email: 'Grace@Example.com',
      verified: true,
    });
    expect(second.customerId).toBe(first.customerId);
    const secondPage = await getPage(t, second.path);
    expect(secondPage.html).toContain('Visa •••• 4242');
    expect(secondPage.html).toContain('Saved card, expires 12/34');
    expect(savedRadio.exec(secondPage.html)?.[1]).toBe(rows[0]!.id);

    const before = await countAuthorizations(t);
    const withSaved = await postForm(t, second.path, {
      csrf_token: csrfOf(secondPage.html),
      payment_method: rows[0]!.id,
    });
    expect(withSaved.status).toBe(303);
    expect(await countAuthorizations(t)).toBe(before + 1);
    const [payment] = await paymentsOf(t, second.checkoutId);
    expect(payment).toMatchObject({
      status: 'SUCCEEDED',
      card_last4: '4242',
      saved_payment_method_id: rows[0]!.id,
    });

    // Another customer of the same merchant never sees it, nor can pay with it.
    const stranger = await createHostedCheckout(t, merchant, {
      allowSave: true,
      email: 'someone.else@example.com',
      verified: true,
    });
    const strangerPage = await getPage(t, stranger.path);
    expect(strangerPage.html).not.toContain('Visa •••• 4242');
    const stolen = await postForm(t, stranger.path, {
      csrf_token: csrfOf(strangerPage.html),
      payment_method: rows[0]!.id,
    });
    expect(stolen.status).toBe(422);
    expect(stolen.html).toContain('This payment method is not available for this order.');
    expect(await paymentsOf(t, stranger.checkoutId)).toEqual([]);
  });

  it('saved cards are offered and charged only when the merchant vouches for the customer (customer.verified)', async () => {
    const email = 'victim@example.com';
    const first = await createHostedCheckout(t, merchant, { allowSave: true, email, verified: true });
    const paid = await postForm(
      t,
      first.path,
      cardForm(csrfOf((await getPage(t, first.path)).html), CARDS.approved, { save_card: 'yes' }),
    );
    expect(paid.status).toBe(303);
    const { rows } = await t.services.db.query<{ id: string }>(
      'SELECT id FROM saved_payment_methods WHERE customer_id = $1',
      [first.customerId],
    );
    expect(rows).toHaveLength(1);
    const savedId = rows[0]!.id;

    // A guest checkout where someone typed the victim's e-mail: same customer, but not vouched for.
    for (const verified of [undefined, false]) {
      const guest = await createHostedCheckout(t, merchant, { allowSave: true, email, verified });
      expect(guest.customerId).toBe(first.customerId);
      const order = await t.app.inject({
        method: 'GET',
        url: `/v1/orders/${guest.orderId}`,
        headers: merchant.headers,
      });
      expect(order.json()).toMatchObject({ customer: { email, verified: false } });
      const guestPage = await getPage(t, guest.path);
      expect(guestPage.html).not.toContain('Visa •••• 4242');
      expect(guestPage.html).not.toContain(savedId);
      const before = await countAuthorizations(t);
      const stolen = await postForm(t, guest.path, {
        csrf_token: csrfOf(guestPage.html),
        payment_method: savedId,
      });
      expect(stolen.status).toBe(422);
      expect(await countAuthorizations(t)).toBe(before);
      expect(await paymentsOf(t, guest.checkoutId)).toEqual([]);
    }

    // The merchant signs the shopper in and replaces the order with the customer vouched for: offered now.
    const later = await createHostedCheckout(t, merchant, { allowSave: true, email });
    expect((await getPage(t, later.path)).html).not.toContain('Visa •••• 4242');
    const replaced = await t.app.inject({
      method: 'PUT',
      url: `/v1/checkouts/${later.checkoutId}`,
      headers: merchant.headers,
      payload: {
        order: {
          merchant_order_id: 'ORDER-1',
          currency: 'USD',
          country_code: 'US',
          subtotal_amount: 2500,
          total_amount: 2500,
          customer: { email, verified: true },
        },
      },
    });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ order: { customer: { verified: true } } });
    expect((await getPage(t, later.path)).html).toContain('Visa •••• 4242');
  });

  it('a card is saved only when the payment goes through, and not without the tick', async () => {
    const declinedCheckout = await createHostedCheckout(t, merchant, {
      allowSave: true,
      email: 'declined@example.com',
    });
    const page = await getPage(t, declinedCheckout.path);
    await postForm(
      t,
      declinedCheckout.path,
      cardForm(csrfOf(page.html), CARDS.declined, { save_card: 'yes' }),
    );
    const unticked = await createHostedCheckout(t, merchant, {
      allowSave: true,
      email: 'unticked@example.com',
    });
    await postForm(t, unticked.path, cardForm(csrfOf((await getPage(t, unticked.path)).html)));
    const { rows } = await t.services.db.query(
      'SELECT 1 FROM saved_payment_methods WHERE customer_id = ANY($1)',
      [[declinedCheckout.customerId, unticked.customerId]],
    );
    expect(rows).toEqual([]);
  });

  it('the merchant lists and removes saved cards; a removed card is wiped and no longer offered', async () => {
    const email = 'remove.me@example.com';
    const first = await createHostedCheckout(t, merchant, { allowSave: true, email });
    await postForm(
      t,
      first.path,
      cardForm(csrfOf((await getPage(t, first.path)).html), CARDS.mastercard, { save_card: 'yes' }),
    );

    const list = await t.app.inject({
      method: 'GET',
      url: `/v1/customers/${first.customerId}/payment-methods`,
      headers: merchant.headers,
    });
    expect(list.statusCode).toBe(200);
    const [saved] = (list.json() as { data: { id: string; card: { brand: string; last4: string } }[] }).data;
    expect(saved).toMatchObject({ card: { brand: 'mastercard', last4: '4444' } });
    expect(list.body).not.toContain('5555555555554444');
    expect(list.json()).toMatchObject({ object: 'list', has_more: false, next_cursor: null });
    // Its cursors are its own cards: the customer id is not one.
    const badCursor = await t.app.inject({
      method: 'GET',
      url: `/v1/customers/${first.customerId}/payment-methods?starting_after=${first.customerId}`,
      headers: merchant.headers,
    });
    expect(expectProblem(badCursor)).toMatchObject({ status: 400, code: 'invalid_cursor' });
    const fromSaved = await t.app.inject({
      method: 'GET',
      url: `/v1/customers/${first.customerId}/payment-methods?ending_before=${saved!.id}`,
      headers: merchant.headers,
    });
    expect(fromSaved.json()).toEqual({ object: 'list', data: [], has_more: false, next_cursor: null });

    const other = await t.createMerchant();
    const foreign = await t.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${first.customerId}/payment-methods/${saved!.id}`,
      headers: other.headers,
    });
    expect(expectProblem(foreign).code).toBe('not_found');

    const removed = await t.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${first.customerId}/payment-methods/${saved!.id}`,
      headers: merchant.headers,
    });
    expect(removed.statusCode).toBe(200);
    expect(removed.json()).toEqual({ object: 'payment_method', id: saved!.id, deleted: true });
    const again = await t.app.inject({
      method: 'DELETE',
      url: `/v1/customers/${first.customerId}/payment-methods/${saved!.id}`,
      headers: merchant.headers,
    });
    expect(again.statusCode).toBe(404);

    const { rows } = await t.services.db.query<{ card_encrypted: Buffer; deleted_at: Date | null }>(
      'SELECT card_encrypted, deleted_at FROM saved_payment_methods WHERE id = $1',
      [saved!.id],
    );
    expect(rows[0]!.card_encrypted.length).toBe(0);
    expect(rows[0]!.deleted_at).not.toBeNull();

    const next = await createHostedCheckout(t, merchant, { allowSave: true, email, verified: true });
    const nextPage = await getPage(t, next.path);
    expect(nextPage.html).not.toContain('Mastercard •••• 4444');
    const withRemoved = await postForm(t, next.path, {
      csrf_token: csrfOf(nextPage.html),
      payment_method: saved!.id,
    });
    expect(withRemoved.status).toBe(422);
  });
});
