import { CommandError, UsageError } from '../errors.ts';
import { connectGateway, type Gateway } from '../gateway-client.ts';
import { print } from '../output.ts';
import {
  awaitEvent,
  cancelOnPage,
  createCheckout,
  latestPayment,
  payOnPage,
  TEST_CARDS,
  type Checkout,
} from '../sandbox-flow.ts';
import type { CommandInput } from '../spec.ts';
import { TRIGGER_TYPES, type TriggerType } from '../trigger-types.ts';

/**
 * `kassa trigger <event type>`: runs the sandbox flow that produces that event against a running gateway
 * (src/cli/sandbox-flow.ts), then waits until the gateway lists the event. Test mode only: the flows pay with
 * the sandbox acquirer's test cards.
 */

type Flow = (gateway: Gateway) => Promise<{ checkout: Checkout; note: string }>;

async function paid(gateway: Gateway, capture: 'automatic' | 'manual', card: string = TEST_CARDS.approved) {
  const checkout = await createCheckout(gateway, { capture });
  await payOnPage(gateway, checkout, card);
  const payment = await latestPayment(gateway, checkout);
  return { checkout, payment };
}

const created: Flow = async (gateway) => ({
  checkout: await createCheckout(gateway),
  note: 'created a checkout',
});

const succeeded: Flow = async (gateway) => {
  const { checkout, payment } = await paid(gateway, 'automatic');
  return { checkout, note: `paid it on the payment page with ${TEST_CARDS.approved}: ${payment.id}` };
};

const FLOWS: Record<TriggerType, Flow> = {
  'checkout.created': created,
  'order.created': created,
  'checkout.completed': succeeded,
  'payment.succeeded': succeeded,
  'payment.authorized': async (gateway) => {
    const { checkout, payment } = await paid(gateway, 'manual');
    return { checkout, note: `paid it with manual capture: ${payment.id} ${payment.status}` };
  },
  'payment.captured': async (gateway) => {
    const { checkout, payment } = await paid(gateway, 'manual');
    await gateway.request('POST', `/v1/payments/${payment.id}/capture`, {});
    return { checkout, note: `paid it with manual capture and captured ${payment.id}` };
  },
  'payment.canceled': async (gateway) => {
    const { checkout, payment } = await paid(gateway, 'manual');
    await gateway.request('POST', `/v1/payments/${payment.id}/cancel`, {});
    return { checkout, note: `paid it with manual capture and canceled ${payment.id}` };
  },
  'payment.rejected': async (gateway) => {
    const { checkout, payment } = await paid(gateway, 'automatic', TEST_CARDS.declined);
    return { checkout, note: `paid it with the declined card ${TEST_CARDS.declined}: ${payment.id}` };
  },
  'payment.pending': async (gateway) => {
    const { checkout, payment } = await paid(gateway, 'automatic', TEST_CARDS.pending);
    return { checkout, note: `paid it with the pending card ${TEST_CARDS.pending}: ${payment.id}` };
  },
  'refund.succeeded': async (gateway) => {
    const { checkout, payment } = await paid(gateway, 'automatic');
    await gateway.request('POST', `/v1/payments/${payment.id}/refunds`, {});
    return { checkout, note: `paid it and refunded ${payment.id} in full` };
  },
  'checkout.canceled': async (gateway) => {
    const checkout = await createCheckout(gateway);
    await cancelOnPage(gateway, checkout);
    return { checkout, note: 'canceled it on the payment page, as a shopper' };
  },
  'checkout.expired': async (gateway) => {
    const checkout = await createCheckout(gateway);
    await gateway.request('POST', `/v1/checkouts/${checkout.id}/expire`, {});
    return { checkout, note: 'expired it (POST /v1/checkouts/{id}/expire)' };
  },
};

export async function trigger(input: CommandInput): Promise<void> {
  const type = input.args[0]!;
  if (!(TRIGGER_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`cannot trigger ${JSON.stringify(type)}; one of: ${TRIGGER_TYPES.join(', ')}`, [
      'trigger',
    ]);
  }
  const gateway = connectGateway(input.options);
  if (/^(sk|rk)_live_/.test(gateway.apiKey)) {
    throw new CommandError(
      'kassa trigger runs sandbox flows: use a test-mode key (sk_test_…), not a live one',
    );
  }
  const { checkout, note } = await FLOWS[type as TriggerType](gateway);
  const event = await awaitEvent(gateway, type, checkout.id);
  print(`${type}: checkout ${checkout.id}, ${note}; event ${event.id}`);
}
