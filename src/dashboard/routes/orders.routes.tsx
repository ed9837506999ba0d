import { AppError } from '../../lib/errors.ts';
import { pooledRandomHex } from '../../lib/random.ts';
import { buildOrderTimeline } from '../../modules/events/order-timeline.service.ts';
import { findOrder } from '../../modules/orders/order.repository.ts';
import { listRefunds } from '../../modules/payments/money-operation.repository.ts';
import {
  captureIdForIdempotencyKey,
  refundIdForIdempotencyKey,
} from '../../modules/payments/payment.keys.ts';
import { findPayment, listPaymentsOfOrder } from '../../modules/payments/payment.repository.ts';
import { roleAllows } from '../../modules/users/permissions.ts';
import { listUsers } from '../../modules/users/users.ts';
import { DashboardRefusal, formKeyOf, formText, KEYED_POST, parseFormAmount, pageFeedback } from '../kit.tsx';
import { HomePage } from '../pages/home.tsx';
import { OrderPage, type PaymentView } from '../pages/order.tsx';
import { OrdersPage } from '../pages/orders.tsx';
import { homeFigures, parseOrderFilters, searchOrders } from '../queries.ts';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';
import { stepUpDone } from '../step-up.tsx';

const NOTICES: Record<string, string> = {
  captured: 'The payment was captured.',
  voided: 'The authorization was voided.',
  refunded: 'The refund was sent.',
  pending: 'The processor has not answered yet; the result will show here shortly.',
};

/** Home, the orders list and an order's page with its money actions (capture, void, refund). */
export function registerOrderRoutes(scope: KassaApp, kit: DashboardKit) {
  const { services, db, clock, sendPage, seeOther, auditAction, readPage, writeActionContext } = kit;

  readPage(scope, '/dashboard', 'orders', async (request, reply, context) => {
    const figures = await homeFigures(db, context.scope, clock.now());
    return sendPage(reply, 200, (nonce) => (
      <HomePage nonce={nonce} viewer={context.viewer} figures={figures} />
    ));
  });

  readPage(scope, '/dashboard/orders', 'orders', async (request, reply, context) => {
    const filters = parseOrderFilters((request.query ?? {}) as Record<string, unknown>);
    const { orders, hasMore } = await searchOrders(db, context.scope, filters);
    return sendPage(reply, 200, (nonce) => (
      <OrdersPage nonce={nonce} viewer={context.viewer} filters={filters} orders={orders} hasMore={hasMore} />
    ));
  });

  readPage(scope, '/dashboard/orders/:id', 'orders', async (request, reply, context) => {
    const id = (request.params as { id: string }).id;
    const order = await findOrder(db, context.scope, id);
    if (!order) throw new DashboardRefusal(404, 'Not found', `There is no order ${id} in this mode.`);
    const payments = await listPaymentsOfOrder(db, context.scope, order.id);
    const views: PaymentView[] = [];
    for (const payment of payments) {
      views.push({
        payment,
        refunds: await listRefunds(db, payment.id),
        formKeys: { capture: pooledRandomHex(16), void: pooledRandomHex(16), refund: pooledRandomHex(16) },
      });
    }
    const { entries } = await buildOrderTimeline(db, context.scope, order.id, { limit: 200 });
    const people = new Map(
      (await listUsers(db, context.scope.merchantId)).map((user) => [user.id, user.email]),
    );
    return sendPage(reply, 200, (nonce) => (
      <OrderPage
        nonce={nonce}
        viewer={context.viewer}
        order={order}
        payments={views}
        timeline={entries}
        people={people}
        canMoveMoney={roleAllows(context.session.user.role, 'payments', 'write')}
        {...pageFeedback(request, NOTICES)}
      />
    ));
  });

  /**
   * Capture, void and refund: the payment flow's own operations (what POST /v1/payments/:id/capture,
   * /cancel and /refunds call), with the operation's id derived from the form's key so a second submit of
   * the same form resumes the same capture or refund instead of making another.
   */
  const moneyAction = (action: 'capture' | 'void' | 'refund') =>
    scope.post(
      `/dashboard/payments/:id/${action}`,
      { config: KEYED_POST, schema: { hide: true } },
      async (request, reply) => {
        const context = await writeActionContext(request, 'payments');
        if (action === 'refund' && !(await stepUpDone(kit, context, request, reply))) return reply;
        const paymentId = (request.params as { id: string }).id;
        const payment = await findPayment(db, context.scope, paymentId);
        if (!payment)
          throw new DashboardRefusal(404, 'Not found', `There is no payment ${paymentId} in this mode.`);
        const back = (query: string) => seeOther(reply, `/dashboard/orders/${payment.orderId}?${query}`);
        const formKey = formKeyOf(request);
        const idempotencyKey = `dashboard:${formKey}`;
        const amountText = formText(request, 'amount');
        const amount = amountText.trim() === '' ? undefined : parseFormAmount(amountText, payment.currency);
        if (action !== 'void' && amountText.trim() !== '' && amount === undefined)
          return back('error=invalid_amount');
        if (action === 'refund' && amount === undefined) return back('error=invalid_amount');
        const reason = formText(request, 'reason').trim().slice(0, 500) || undefined;
        let pending = false;
        let operationId: string | undefined;
        try {
          if (action === 'capture') {
            const attempt = await services.payments.capturePayment(
              payment,
              amount,
              captureIdForIdempotencyKey(context.scope, payment.id, idempotencyKey),
            );
            if (attempt.refusal || attempt.capture.status === 'FAILED') return back('error=payment_declined');
            pending = attempt.capture.status === 'PENDING';
            operationId = attempt.capture.id;
          } else if (action === 'void') {
            const result = await services.payments.cancelPayment(context.scope, payment.id);
            pending = result.pending;
          } else {
            const attempt = await services.payments.refundPayment(
              context.scope,
              payment.id,
              { amount, reason },
              refundIdForIdempotencyKey(context.scope, payment.id, idempotencyKey),
            );
            if (attempt.refusal || attempt.refund.status === 'FAILED') return back('error=payment_declined');
            pending = attempt.refund.status === 'PENDING';
            operationId = attempt.refund.id;
          }
        } catch (error) {
          if (error instanceof AppError) return back(`error=${error.code}`);
          throw error;
        } finally {
          services.outbox.notify();
        }
        await auditAction(request, context, {
          action: `payment.${action}`,
          objectType: 'payment',
          objectId: payment.id,
          details: {
            livemode: context.scope.livemode,
            ...(amount !== undefined ? { amount, currency: payment.currency } : {}),
            ...(operationId ? { operation_id: operationId } : {}),
            ...(reason ? { reason } : {}),
          },
        });
        const done = { capture: 'captured', void: 'voided', refund: 'refunded' }[action];
        return back(`notice=${pending ? 'pending' : done}`);
      },
    );
  moneyAction('capture');
  moneyAction('void');
  moneyAction('refund');
}
