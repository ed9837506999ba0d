import type { Database, Queryable, UnitOfWork } from '../../db/client.ts';
import { compileEgressPolicy, type CompiledEgressPolicy } from '../../egress/index.ts';
import { addSeconds, type Clock } from '../../lib/clock.ts';
import {
  AppError,
  invalidStateError,
  notFoundError,
  validationError,
  type FieldError,
} from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { Keyring } from '../../lib/keyring.ts';
import type { MerchantCache } from '../merchants/merchant-cache.ts';
import { PAYMENT_METHOD_TYPES, type PaymentMethodType } from '../payment-methods/eligibility.ts';
import { noProcessorError, type ConnectorRouter } from '../processor-accounts/processor-routing.ts';
import {
  emitOrderEvent,
  findOrderByCheckoutId,
  findOrdersByCheckoutIds,
  orderEvent,
  replaceOrderContent,
  upsertCustomer,
} from '../orders/order.service.ts';
import { transitionOrder } from '../orders/order.transitions.ts';
import { countPaymentLinkCompletion } from '../payment-links/payment-link.completion.ts';
import type { OrderStatus } from '../orders/order.states.ts';
import { orderStateMachine } from '../orders/order.states.ts';
import type { Order, OrderInput } from '../orders/order.types.ts';
import { checkoutEvent, emitCheckoutEvent } from './checkout.events.ts';
import { presentCheckout } from './checkout.presenter.ts';

export { checkoutEvent, emitCheckoutEvent };
import {
  claimDueCheckouts,
  closeCheckoutRow,
  closedCheckout,
  findCheckout,
  insertCheckoutWithOrder,
  newCheckoutWithOrder,
  listCheckouts,
  touchCheckout,
  type CheckoutListFilters,
} from './checkout.repository.ts';
import type { CheckoutResource, CreateCheckoutRequest } from './checkout.schemas.ts';
import { checkoutEventType, checkoutStateMachine, type ClosedCheckoutStatus } from './checkout.states.ts';
import { newClientToken } from './checkout.tokens.ts';
import type { CancellationReason, Checkout, CheckoutWithOrder, Scope } from './checkout.types.ts';
import { checkCheckoutUrls, mergeCallbacks } from './checkout.urls.ts';

/**
 * Checkout sessions: create, read, replace the order, close (complete / cancel / expire) and the expiry sweep.
 * Every function that changes something takes the caller's transaction and writes its events with it.
 */

// The loads and writes other modules may send for sessions (through this file, never the repository:
// eslint.config.js): a payment locks its session and marks it as the one attempt in flight.
export { lockCheckout, lockCheckoutOfPayment, setActivePayment } from './checkout.repository.ts';

export type CheckoutServiceDeps = {
  clock: Clock;
  keyring: Keyring;
  /** Base of `checkout_redirect_url`. */
  publicUrl: string;
  /** Judges callback URLs at registration (literal private addresses, localhost in production). */
  egressPolicy: CompiledEgressPolicy;
  /** The merchant defaults a new checkout inherits, read through this process's short-lived cache. */
  merchants: MerchantCache;
  /**
   * Which methods a processor account of the mode takes in a currency (null: every method, test mode). A
   * live checkout no account can be paid through is refused up front (`no_processor`). Absent: not checked.
   */
  processorMethods?: ConnectorRouter['routableMethods'];
};

/**
 * The dependencies from the composition root (`Services` fits): the egress policy follows the environment —
 * production refuses loopback callback hosts unless allow-listed, development and test allow them.
 */
export function checkoutServiceDeps(services: {
  config: { publicUrl: string; environment: string; egressAllowList: string[] };
  clock: Clock;
  keyring: Keyring;
  merchants: MerchantCache;
  connectors?: Pick<ConnectorRouter, 'routableMethods'>;
}): CheckoutServiceDeps {
  const connectors = services.connectors;
  return {
    clock: services.clock,
    keyring: services.keyring,
    merchants: services.merchants,
    ...(connectors
      ? { processorMethods: (db, scope, currency) => connectors.routableMethods(db, scope, currency) }
      : {}),
    publicUrl: services.config.publicUrl,
    egressPolicy: compileEgressPolicy({
      mode: services.config.environment === 'production' ? 'production' : 'development',
      allowList: services.config.egressAllowList,
    }),
  };
}

/** True while a shopper may still pay: OPEN and before its deadline (the sweep may not have run yet). */
export function isCheckoutPayable(checkout: Checkout, now: Date): boolean {
  return checkout.status === 'OPEN' && checkout.expiresAt.getTime() > now.getTime();
}

/**
 * Live is never "accepted, then fails": a checkout (or payment link) that no processor account of the mode
 * can take in `currency` with any of `allowedMethods` (null: every method) is refused up front with
 * `no_processor`, which carries the request's other field errors too.
 */
export async function checkProcessorCoverage(
  tx: Queryable,
  deps: Pick<CheckoutServiceDeps, 'processorMethods'>,
  scope: Scope,
  currency: string,
  allowedMethods: readonly PaymentMethodType[] | null | undefined,
  otherErrors: FieldError[],
): Promise<void> {
  const routable = await deps.processorMethods?.(tx, scope, currency);
  if (!routable) return;
  const allowed = allowedMethods ?? PAYMENT_METHOD_TYPES;
  if (allowed.some((method) => routable.has(method))) return;
  throw noProcessorError(
    allowed.map((method) => ({ method, currency: currency.toUpperCase() })),
    otherErrors,
  );
}

export async function createCheckout(
  tx: UnitOfWork,
  deps: CheckoutServiceDeps,
  scope: Scope,
  request: CreateCheckoutRequest,
  /** `checkoutId`: an id chosen beforehand (a payment link's session whose redirect URLs name its own page). */
  origin: { paymentLinkId?: string; checkoutId?: string } = {},
): Promise<{ checkout: CheckoutWithOrder; clientToken: string; resource: CheckoutResource }> {
  const merchant = await deps.merchants.find(tx, scope.merchantId);
  if (!merchant) throw notFoundError('merchant', scope.merchantId);

  const { callbacks, fromDefaults } = mergeCallbacks(merchant.defaultCallbacks, request.callbacks);
  const urlErrors = checkCheckoutUrls(
    {
      completedRedirectUrl: request.completed_redirect_url,
      canceledRedirectUrl: request.canceled_redirect_url,
      callbacks,
      fromDefaults,
    },
    scope.livemode,
    deps.egressPolicy,
  );
  await checkProcessorCoverage(tx, deps, scope, request.order.currency, request.payment_methods, urlErrors);
  if (urlErrors.length > 0) throw validationError(urlErrors);

  const now = deps.clock.now();
  const { token, digest } = newClientToken();
  const customer = request.order.customer
    ? await upsertCustomer(tx, scope, request.order.customer, now)
    : null;
  const checkoutId = origin.checkoutId ?? newId('chk');
  const newCheckout = {
    id: checkoutId,
    completedRedirectUrl: request.completed_redirect_url,
    canceledRedirectUrl: request.canceled_redirect_url,
    callbacks,
    capture: request.capture_mode ?? merchant.defaultCapture,
    allowSavePaymentMethods: request.allow_save_payment_methods,
    locale: request.locale ?? merchant.defaultLocale,
    localeIsDefault: request.locale === undefined,
    paymentMethods: request.payment_methods ?? null,
    metadata: request.metadata,
    clientTokenSha256: digest,
    expiresAt: addSeconds(now, request.expires_in_seconds ?? merchant.defaultSessionLifetimeSeconds),
    paymentLinkId: origin.paymentLinkId ?? null,
    now,
  };
  const newOrder = { id: newId('ord'), checkoutId, input: request.order, customer, now };
  // Presented once, before the write (nothing is read back): the checkout's event carries it, the order's
  // event its order, and the response adds the client token.
  const created = newCheckoutWithOrder(scope, newCheckout, newOrder);
  const resource = presentCheckout(created, deps);
  insertCheckoutWithOrder(tx, scope, newCheckout, newOrder);
  tx.emit(checkoutEvent(deps, created, 'checkout.created', resource));
  tx.emit(orderEvent(created.order, 'order.created', resource.order));
  return { checkout: created, clientToken: token, resource };
}

export async function findCheckoutWithOrder(
  db: Queryable,
  scope: Scope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<CheckoutWithOrder | undefined> {
  const checkout = await findCheckout(db, scope, id, options);
  if (!checkout) return undefined;
  const order = await findOrderByCheckoutId(db, scope, id, options);
  if (!order) throw new Error(`Checkout ${id} has no order`); // both are written in one transaction
  return { checkout, order };
}

export async function getCheckoutWithOrder(
  db: Queryable,
  scope: Scope,
  id: string,
): Promise<CheckoutWithOrder> {
  const found = await findCheckoutWithOrder(db, scope, id);
  if (!found) throw notFoundError('checkout', id);
  return found;
}

export async function listCheckoutsWithOrders(
  db: Queryable,
  scope: Scope,
  filters: CheckoutListFilters,
): Promise<CheckoutWithOrder[]> {
  const checkouts = await listCheckouts(db, scope, filters);
  const orders = await findOrdersByCheckoutIds(
    db,
    scope,
    checkouts.map((checkout) => checkout.id),
  );
  return checkouts.map((checkout) => ({ checkout, order: orders.get(checkout.id)! }));
}

/**
 * `PUT /v1/checkouts/{id}`: replaces the order (lines, amounts, customer, metadata) of an OPEN session as long
 * as no payment has started. Same order id; the versions of order and session move on.
 */
export async function replaceCheckoutOrder(
  tx: UnitOfWork,
  deps: CheckoutServiceDeps,
  scope: Scope,
  checkoutId: string,
  input: OrderInput,
): Promise<CheckoutWithOrder> {
  const current = await findCheckoutWithOrder(tx, scope, checkoutId, { forUpdate: true });
  if (!current) throw notFoundError('checkout', checkoutId);
  const { checkout, order } = current;
  if (checkout.status !== 'OPEN')
    throw invalidStateError('checkout', checkout.status, ['OPEN'], 'replace the order of');
  if (checkout.paymentStarted || checkout.activePaymentId !== null) {
    throw new AppError(
      'payment_in_progress',
      'A payment has already started for this checkout; its order can no longer be replaced. Expire it and create a new checkout instead.',
    );
  }
  if (order.status !== 'CREATED') throw invalidStateError('order', order.status, ['CREATED'], 'replace');

  const now = deps.clock.now();
  const customer = input.customer ? await upsertCustomer(tx, scope, input.customer, now) : null;
  const replaced = await replaceOrderContent(tx, scope, order.id, input, customer?.id ?? null, now);
  const touched = await touchCheckout(tx, scope, checkoutId, now);
  const result = { checkout: touched!, order: replaced! };
  await emitOrderEvent(tx, result.order, 'order.updated');
  await emitCheckoutEvent(tx, deps, result, 'checkout.updated');
  return result;
}

/** The order status a session's closing brings with it; COMPLETED leaves the order to the payment flow. */
function orderStatusOnClose(status: ClosedCheckoutStatus): OrderStatus | undefined {
  switch (status) {
    case 'EXPIRED':
      return 'EXPIRED';
    case 'CANCELED':
      return 'CANCELED';
    case 'COMPLETED':
      return undefined;
    default: {
      const unreachable: never = status;
      throw new Error(`Unknown checkout status ${String(unreachable)}`);
    }
  }
}

/**
 * Closes a session: OPEN → COMPLETED | CANCELED | EXPIRED under a row lock, with its event. On CANCELED or
 * EXPIRED an order that is still CREATED (nothing paid) follows, with `order.updated`; on COMPLETED the
 * payment flow moves the order itself (PENDING / AUTHORIZED / PAID). Anything but OPEN is a coded 409.
 *
 * `refuseWhilePaymentActive` (default true) refuses with `payment_in_progress` while a payment attempt is in
 * flight; the payment flow completing its own attempt passes false.
 */
export async function closeCheckout(
  tx: UnitOfWork,
  deps: CheckoutServiceDeps,
  scope: Scope,
  checkoutId: string,
  status: ClosedCheckoutStatus,
  options: { action: string; refuseWhilePaymentActive?: boolean; cancellationReason?: CancellationReason },
): Promise<CheckoutWithOrder> {
  const current = await findCheckoutWithOrder(tx, scope, checkoutId, { forUpdate: true });
  if (!current) throw notFoundError('checkout', checkoutId);
  return closeLockedCheckout(tx, deps, scope, current, status, options);
}

/** A session its caller has locked and read, with its order: what closing decides on. */
export type LockedSession = CheckoutWithOrder;

/**
 * `closeCheckout` for a caller that already holds the session's row lock and its order (the payment flow's
 * settle locks the session with the payment and has just moved the order), so neither is read again.
 */
export async function closeLockedCheckout(
  tx: UnitOfWork,
  deps: CheckoutServiceDeps,
  scope: Scope,
  current: LockedSession,
  status: ClosedCheckoutStatus,
  options: { action: string; refuseWhilePaymentActive?: boolean; cancellationReason?: CancellationReason },
): Promise<CheckoutWithOrder> {
  checkoutStateMachine.assertTransition(current.checkout.status, status, options.action);
  if ((options.refuseWhilePaymentActive ?? true) && current.checkout.activePaymentId !== null) {
    throw new AppError(
      'payment_in_progress',
      `A payment (${current.checkout.activePaymentId}) is in progress for this checkout; try again when it has finished`,
    );
  }
  return applyClose(tx, deps, scope, current, status, options.cancellationReason ?? null);
}

/** The change itself, for a session already locked and checked. */
async function applyClose(
  tx: UnitOfWork,
  deps: CheckoutServiceDeps,
  scope: Scope,
  current: LockedSession,
  status: ClosedCheckoutStatus,
  cancellationReason: CancellationReason | null,
): Promise<CheckoutWithOrder> {
  const now = deps.clock.now();
  const checkout = closedCheckout(current.checkout, status, now, cancellationReason);
  closeCheckoutRow(tx, scope, checkout.id, status, now, cancellationReason);
  let order: Order = current.order;
  const orderStatus = orderStatusOnClose(status);
  // Only an order with nothing paid follows its session; CREATED → CANCELED / EXPIRED are table edges.
  if (orderStatus && order.status === 'CREATED') {
    orderStateMachine.assertTransition(order.status, orderStatus, 'close');
    order = transitionOrder(tx, order, { to: orderStatus }, now) ?? order;
  }
  const closed = { checkout, order };
  tx.emit(checkoutEvent(deps, closed, checkoutEventType(status)));
  if (order !== current.order) tx.emit(orderEvent(order, 'order.updated'));
  // Every path that completes a session comes through here, so a session opened from a payment link is
  // counted towards the link's cap in the very transaction that completes it. A session without a link
  // (the returned row says so, under its lock) has nothing to count: no look-up.
  if (status === 'COMPLETED' && checkout.paymentLinkId !== null) {
    await countPaymentLinkCompletion(tx, deps, closed);
  }
  return closed;
}

export const SWEEP_BATCH_SIZE = 100;
const SWEEP_MAX_BATCHES = 20;

/**
 * Expires every OPEN session past its deadline that has no payment attempt in flight, in batches of
 * `batchSize`, one transaction per batch. Safe with several gateway processes: each batch claims its rows
 * with FOR UPDATE SKIP LOCKED, so two sweeps never take the same session and never wait for each other. The
 * session, its order and their events commit together. Returns how many sessions it expired.
 */
export async function sweepExpiredCheckouts(
  db: Database,
  deps: CheckoutServiceDeps,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? SWEEP_BATCH_SIZE;
  const maxBatches = options.maxBatches ?? SWEEP_MAX_BATCHES;
  let expired = 0;
  for (let batch = 0; batch < maxBatches; batch += 1) {
    const count = await db.transaction(async (tx) => {
      const due = await claimDueCheckouts(tx, deps.clock.now(), batchSize);
      for (const checkout of due) {
        const scope = { merchantId: checkout.merchantId, livemode: checkout.livemode };
        const order = await findOrderByCheckoutId(tx, scope, checkout.id, { forUpdate: true });
        if (!order) throw new Error(`Checkout ${checkout.id} has no order`);
        await applyClose(tx, deps, scope, { checkout, order }, 'EXPIRED', null);
      }
      return due.length;
    });
    expired += count;
    if (count < batchSize) break;
  }
  return expired;
}
