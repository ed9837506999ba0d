import { cardFingerprint, cardLast4, detectCardBrand } from '../../../lib/card.ts';
import type { PaymentMethodData } from '../../../connectors/connector.ts';
import { AppError, notFoundError } from '../../../lib/errors.ts';
import { newId } from '../../../lib/ids.ts';
import { lockCheckout, setActivePayment } from '../../checkouts/checkout.service.ts';
import type { Checkout } from '../../checkouts/checkout.types.ts';
import { readOrderOfCheckout } from '../../orders/order.service.ts';
import type { Order } from '../../orders/order.types.ts';
import { evaluatePaymentMethods } from '../../payment-methods/eligibility.ts';
import {
  loadRoutableProcessorAccounts,
  noProcessorError,
  savedCardNotChargeableError,
} from '../../processor-accounts/processor-routing.ts';
import { insertPayment } from '../payment.repository.ts';
import type { Payment, PaymentCard } from '../payment.types.ts';
import type { UnitOfWork } from '../../../db/client.ts';
import type { ProcessorAccount } from '../../processor-accounts/processor-account.types.ts';
import { RecordRefused, type PayCheckoutInput, type PaymentContext } from './payment-context.ts';

export function describeCard(context: PaymentContext, method: PaymentMethodData): PaymentCard | null {
  if (method.type !== 'card') return null;
  const { number, expMonth, expYear } = method.card;
  return {
    brand: detectCardBrand(number),
    last4: cardLast4(number),
    expMonth,
    expYear,
    fingerprint: cardFingerprint(number, context.keyring.key('card-fingerprint')),
  };
}

/** Step 1: the guarded start of an attempt. Throws a coded error when the session cannot be paid now. */
export async function startAttempt(
  context: PaymentContext,
  input: PayCheckoutInput,
): Promise<{ payment: Payment; checkout: Checkout; order: Order }> {
  const unit = await context.db.transaction(async (tx) => {
    // The caller's record first (its claim travels with the load), then the session locked, its order read
    // under that lock (it is replaced only under it), and the processor accounts that may take the payment.
    const checkRecord = input.record?.claim(tx);
    const [checkout, order, accounts] = await tx.load(
      lockCheckout(input.scope, input.checkoutId),
      readOrderOfCheckout(input.scope, input.checkoutId),
      loadRoutableProcessorAccounts(input.scope),
    );
    if (!checkRecord) return decideStart(context, tx, input, { checkout, order, accounts });
    await checkRecord().catch((error: unknown) => {
      throw new RecordRefused(error);
    });
    try {
      return await decideStart(context, tx, input, { checkout, order, accounts });
    } catch (error) {
      // A refusal commits the claim all the same, as a claim of its own would have been: a retry of an
      // attempt that exists under the key goes on to resume it while holding the key.
      if (error instanceof AppError) return { refused: error };
      throw error;
    }
  });
  if ('refused' in unit) throw unit.refused;
  const { mark, started, order } = unit;
  // Both writes are conditional on the session as locked: a session that changed anyway got neither.
  const [marked, payment] = [await mark.result(), await started.result()];
  if (!marked || !payment)
    throw new AppError('conflict', 'The checkout changed while the payment started; try again');
  return { payment, checkout: marked, order };
}

/** The start's decision and writes, on the session, order and accounts as loaded; throws its refusals. */
async function decideStart(
  context: PaymentContext,
  tx: UnitOfWork,
  input: PayCheckoutInput,
  { checkout, order, accounts }: { checkout?: Checkout; order?: Order; accounts: ProcessorAccount[] },
) {
  const now = context.clock.now();
  if (!checkout) throw notFoundError('checkout', input.checkoutId);
  if (checkout.status !== 'OPEN') {
    throw new AppError(
      'invalid_state_transition',
      `This checkout is ${checkout.status} and accepts no payment`,
      {
        extensions: { current_status: checkout.status, allowed_statuses: ['OPEN'] },
      },
    );
  }
  if (checkout.expiresAt <= now)
    throw new AppError('gone', `This checkout expired at ${checkout.expiresAt.toISOString()}`);
  if (checkout.activePaymentId) {
    throw new AppError('payment_in_progress', 'A payment for this checkout is already in progress', {
      extensions: { payment_id: checkout.activePaymentId },
    });
  }
  if (!order) throw notFoundError('order of checkout', checkout.id);
  if (input.expectedOrderVersion !== undefined && order.version !== input.expectedOrderVersion) {
    throw new AppError('order_changed', 'The order changed since the payment form was shown', {
      extensions: { order_version: order.version },
    });
  }

  const settings = await context.paymentMethodSettings.find(tx, input.scope);
  const { eligible, hidden } = evaluatePaymentMethods(settings, {
    country: order.countryCode,
    currency: order.currency,
    amount: order.totalAmount,
    device: input.device,
    allowedMethods: checkout.paymentMethods,
    processorMethods: context.connectors.routableMethodsAmong(accounts, input.scope, order.currency),
  });
  const setting = eligible.find((candidate) => candidate.method === input.method.type);
  if (hidden.some((entry) => entry.method === input.method.type && entry.rule === 'no_processor'))
    throw noProcessorError([{ method: input.method.type, currency: order.currency }]);
  if (!setting) {
    throw new AppError(
      'payment_method_not_available',
      `${input.method.type} is not available for this checkout`,
      {
        errors: [
          {
            pointer: '/payment_method',
            code: 'payment_method_not_available',
            message: `${input.method.type} is not offered here`,
          },
        ],
      },
    );
  }
  const card = describeCard(context, input.method);
  if (card && setting.card_brands && !setting.card_brands.includes(card.brand)) {
    throw new AppError('payment_method_not_available', `${card.brand} cards are not accepted here`, {
      errors: [
        {
          pointer: '/card/number',
          code: 'unsupported_card_brand',
          message: `${card.brand} cards are not accepted`,
        },
      ],
    });
  }

  // The processor account that takes it (test mode without one: the sandbox); stored on the payment.
  const connector = context.connectors.routeAmong(accounts, input.scope, {
    method: input.method.type,
    currency: order.currency,
  });

  // Saved cards stay sandbox-only: a real processor is never sent a stored credential it did not verify.
  if (input.savedPaymentMethodId) {
    const account = await context.connectors.accountOf(connector.id);
    if (account && account.processor !== 'sandbox') throw savedCardNotChargeableError(account.processor);
  }

  // Apply: the session marks the attempt as its active one, and the payment is inserted as `processing`.
  const paymentId = input.paymentId ?? newId('pay');
  const mark = setActivePayment(tx, input.scope, checkout.id, paymentId, now);
  const started = insertPayment(tx, {
    id: paymentId,
    scope: input.scope,
    checkoutId: checkout.id,
    orderId: order.id,
    channel: input.channel,
    method: input.method.type,
    amount: order.totalAmount,
    currency: order.currency,
    captureMode: checkout.capture,
    connectorId: connector.id,
    card,
    savedPaymentMethodId: input.savedPaymentMethodId ?? null,
    ...(input.metadata ? { metadata: input.metadata } : {}),
    now,
  });
  return { mark, started, order };
}
