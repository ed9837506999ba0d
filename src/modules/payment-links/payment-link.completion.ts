import type { UnitOfWork } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Checkout } from '../checkouts/checkout.types.ts';
import type { Order } from '../orders/order.types.ts';
import { emitPaymentLinkEvent } from './payment-link.events.ts';
import type { PaymentLinkPresentationDeps } from './payment-link.presenter.ts';
import {
  closePaymentLinkRow,
  findPaymentLinkOfCheckout,
  incrementPaymentLinkCompletions,
} from './payment-link.repository.ts';
import { paymentLinkEventType, paymentLinkStateMachine } from './payment-link.states.ts';

/**
 * Called by `closeCheckout` in the transaction that moves a session to COMPLETED: if the session was opened
 * from a payment link, the link counts one completion and, at its cap, becomes COMPLETED with
 * `payment_link.completed`. Being in that transaction, the count commits if and only if the session's
 * completion does.
 *
 * Lock order: the caller holds the session's row; this locks the link's. Paths that lock a link first and a
 * session second (opening a link, deactivating it) take sessions with SKIP LOCKED, so they never wait here.
 *
 * A session of a link that is no longer ACTIVE (a payment that was in flight when the link expired or was
 * deactivated) still counts — the money moved — but the link's status stays where it is.
 *
 * Imports nothing from the checkout service, so checkouts → payment links is a one-way dependency here.
 */
export async function countPaymentLinkCompletion(
  tx: UnitOfWork,
  deps: PaymentLinkPresentationDeps & { clock: Clock },
  session: { checkout: Checkout; order: Order },
): Promise<void> {
  const link = await findPaymentLinkOfCheckout(tx, session.checkout.id);
  if (!link) return;
  const now = deps.clock.now();
  const counted = await incrementPaymentLinkCompletions(tx, link.id, now);
  if (counted.status !== 'ACTIVE' || counted.completions < counted.maxCompletions) return;
  paymentLinkStateMachine.assertTransition(counted.status, 'COMPLETED', 'complete');
  const completed = await closePaymentLinkRow(tx, link.id, 'COMPLETED', now);
  if (!completed) throw new Error(`Payment link ${link.id} changed while locked`);
  await emitPaymentLinkEvent(tx, deps, completed, paymentLinkEventType('COMPLETED'), {
    checkoutId: session.checkout.id,
    orderId: session.order.id,
  });
}
