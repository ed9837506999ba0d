import type { QueryResult } from 'pg';
import { PLANNED_PER_CALL, type Load, type Queryable, type UnitOfWork } from '../../db/client.ts';
import { fetchPage, type PageRequest, type Sql } from '../../db/pagination.ts';
import type { CheckoutStatus, ClosedCheckoutStatus } from './checkout.states.ts';
import { COLUMNS, PAYMENT_STARTED, toCheckout, type CheckoutRow } from './checkout.row.ts';
import { newOrderRecord, orderInsertSql, type NewOrder } from '../orders/order.service.ts';
import type { CancellationReason, Checkout, CheckoutWithOrder, Scope } from './checkout.types.ts';

// By id, the scope is a filter (`IS NOT DISTINCT FROM`: `=` on NOT NULL columns, never an index condition), so the
// lookup is the primary key's, not a walk of the merchant's list index (docs/performance.md, PostgreSQL's share).

/** What a new session starts with (the rest starts empty); `paymentLinkId`: the link visited, else null. */
export type NewCheckout = Pick<
  Checkout,
  | 'id'
  | 'completedRedirectUrl'
  | 'canceledRedirectUrl'
  | 'callbacks'
  | 'capture'
  | 'allowSavePaymentMethods'
  | 'locale'
  | 'localeIsDefault'
  | 'paymentMethods'
  | 'metadata'
  | 'expiresAt'
  | 'paymentLinkId'
> & { clientTokenSha256: Buffer; now: Date };

/**
 * Inserts a new session and its order in one statement, as a write of the unit of work. Nothing is read
 * back — every value is given or a column default — so the caller presents `newCheckoutWithOrder(…)`, the
 * same rows, for its events and its answer (a test compares the creation response with a later GET).
 */
export function insertCheckoutWithOrder(
  tx: UnitOfWork,
  scope: Scope,
  checkout: NewCheckout,
  order: NewOrder,
): void {
  const orderInsert = orderInsertSql(17);
  const orderValues = orderInsert.values(scope, order);
  tx.write(
    `WITH checkout AS (
       INSERT INTO checkouts (id, merchant_id, livemode, status, completed_redirect_url, canceled_redirect_url,
         callbacks, capture, allow_save_payment_methods, locale, payment_methods, metadata, client_token_sha256,
         expires_at, created_at, updated_at, payment_link_id, locale_is_default)
       VALUES ($1, $2, $3, 'OPEN', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16)
     ), new_order AS (${orderInsert.sql})
     SELECT 1`,
    [
      checkout.id,
      scope.merchantId,
      scope.livemode,
      checkout.completedRedirectUrl,
      checkout.canceledRedirectUrl,
      JSON.stringify(checkout.callbacks),
      checkout.capture,
      checkout.allowSavePaymentMethods,
      checkout.locale,
      checkout.paymentMethods,
      JSON.stringify(checkout.metadata),
      checkout.clientTokenSha256,
      checkout.expiresAt,
      checkout.now,
      checkout.paymentLinkId,
      checkout.localeIsDefault,
      ...orderValues,
    ],
  );
}

/** The rows `insertCheckoutWithOrder` writes, as `findCheckoutWithOrder` would read them back. */
export function newCheckoutWithOrder(
  scope: Scope,
  checkout: NewCheckout,
  order: NewOrder,
): CheckoutWithOrder {
  return {
    checkout: newCheckoutRecord(scope, checkout),
    order: newOrderRecord(scope, order, { expiresAt: checkout.expiresAt, locale: checkout.locale }),
  };
}

/** The row `insertCheckoutWithOrder` writes, as `findCheckout` would read it (the column defaults included). */
function newCheckoutRecord(scope: Scope, checkout: NewCheckout): Checkout {
  return {
    id: checkout.id,
    merchantId: scope.merchantId,
    livemode: scope.livemode,
    status: 'OPEN',
    completedRedirectUrl: checkout.completedRedirectUrl,
    canceledRedirectUrl: checkout.canceledRedirectUrl,
    callbacks: checkout.callbacks,
    capture: checkout.capture,
    allowSavePaymentMethods: checkout.allowSavePaymentMethods,
    locale: checkout.locale,
    localeIsDefault: checkout.localeIsDefault,
    paymentMethods: checkout.paymentMethods,
    metadata: checkout.metadata,
    paymentStarted: false,
    activePaymentId: null,
    paymentLinkId: checkout.paymentLinkId,
    expiresAt: checkout.expiresAt,
    completedAt: null,
    canceledAt: null,
    cancellationReason: null,
    expiredAt: null,
    createdAt: checkout.now,
    updatedAt: checkout.now,
    version: 1,
  };
}

/** `forUpdate` locks the row until the transaction ends: use it before any change guarded by a status. */
export async function findCheckout(
  db: Queryable,
  scope: Scope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<Checkout | undefined> {
  const { rows } = await db.query<CheckoutRow>(
    `SELECT ${COLUMNS} FROM checkouts WHERE id = $1 AND (merchant_id, livemode) IS NOT DISTINCT FROM ($2, $3)
     ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [id, scope.merchantId, scope.livemode],
  );
  return rows[0] ? toCheckout(rows[0]) : undefined;
}

/** Several sessions at once (expansions of a list page); missing ids are left out. */
export async function findCheckouts(db: Queryable, scope: Scope, ids: string[]): Promise<Checkout[]> {
  const { rows } = await db.query<CheckoutRow>(
    `SELECT ${COLUMNS} FROM checkouts WHERE id = ANY($1) AND merchant_id = $2 AND livemode = $3`,
    [ids, scope.merchantId, scope.livemode],
  );
  return rows.map(toCheckout);
}

/** A load (`uow.load`) that locks a session and reads it. */
export function lockCheckout(scope: Scope, id: string): Load<Checkout | undefined> {
  return {
    text: `SELECT ${COLUMNS} FROM checkouts WHERE id = $1 AND (merchant_id, livemode) IS NOT DISTINCT FROM ($2, $3) FOR UPDATE`,
    values: [id, scope.merchantId, scope.livemode],
    read: readCheckout,
  };
}

/** A load that locks the session of a payment and reads it (a payment's session never changes). */
export function lockCheckoutOfPayment(paymentId: string): Load<Checkout | undefined> {
  return {
    text: `SELECT ${COLUMNS} FROM checkouts WHERE id = (SELECT checkout_id FROM payments WHERE id = $1) FOR UPDATE`,
    values: [paymentId],
    read: readCheckout,
  };
}

function readCheckout(result: QueryResult): Checkout | undefined {
  const row = result.rows[0] as CheckoutRow | undefined;
  return row && toCheckout(row);
}

/**
 * Whose checkout an id is, for callers that hold only the id and have authenticated it another way (the
 * hosted page after `verifyCheckoutUrlSignature`); then use the scoped functions.
 */
export async function findCheckoutScope(db: Queryable, id: string): Promise<Scope | undefined> {
  const { rows } = await db.query<{ merchant_id: string; livemode: boolean }>(
    'SELECT merchant_id, livemode FROM checkouts WHERE id = $1',
    [id],
  );
  return rows[0] ? { merchantId: rows[0].merchant_id, livemode: rows[0].livemode } : undefined;
}

export type CheckoutListFilters = PageRequest & {
  status?: CheckoutStatus | undefined;
  merchantOrderId?: string | undefined;
  customerId?: string | undefined;
};

/** A page of checkouts, newest first (`limit + 1` rows: src/db/pagination.ts). */
export async function listCheckouts(
  db: Queryable,
  scope: Scope,
  filters: CheckoutListFilters,
): Promise<Checkout[]> {
  const conditions: Sql[] = [];
  if (filters.status !== undefined) conditions.push((p) => `checkouts.status = ${p(filters.status)}`);
  if (filters.merchantOrderId !== undefined)
    conditions.push(
      (p) =>
        `EXISTS (SELECT 1 FROM orders o WHERE o.checkout_id = checkouts.id AND o.merchant_order_id = ${p(filters.merchantOrderId)})`,
    );
  if (filters.customerId !== undefined)
    conditions.push(
      (p) =>
        `EXISTS (SELECT 1 FROM orders o WHERE o.checkout_id = checkouts.id AND o.customer_id = ${p(filters.customerId)})`,
    );
  const rows = await fetchPage<CheckoutRow>(
    db,
    {
      alias: 'checkouts',
      from: 'checkouts',
      columns: COLUMNS,
      scope: [
        (p) => `checkouts.merchant_id = ${p(scope.merchantId)}`,
        (p) => `checkouts.livemode = ${p(scope.livemode)}`,
      ],
      filters: conditions,
    },
    filters,
  );
  return rows.map(toCheckout);
}

/** Records that the order changed (PUT): the session's version moves with it. */
export async function touchCheckout(
  tx: Queryable,
  scope: Scope,
  id: string,
  now: Date,
): Promise<Checkout | undefined> {
  const { rows } = await tx.query<CheckoutRow>(
    `UPDATE checkouts SET updated_at = $1, version = version + 1
     WHERE id = $2 AND (merchant_id, livemode) IS NOT DISTINCT FROM ($3, $4) RETURNING ${COLUMNS}`,
    [now, id, scope.merchantId, scope.livemode],
  );
  return rows[0] ? toCheckout(rows[0]) : undefined;
}

/** Writes a session's new metadata (the caller holds its row lock), with `next`'s version. */
export function writeCheckoutMetadata(uow: UnitOfWork, next: Checkout): void {
  uow.write('UPDATE checkouts SET metadata = $1, updated_at = $2, version = $3 WHERE id = $4', [
    JSON.stringify(next.metadata),
    next.updatedAt,
    next.version,
    next.id,
  ]);
}

const CLOSED_AT_COLUMN: Record<ClosedCheckoutStatus, string> = {
  COMPLETED: 'completed_at',
  CANCELED: 'canceled_at',
  EXPIRED: 'expired_at',
};

/**
 * A session as closing leaves it (pure): what `closeCheckoutRow` writes, for the events of the close.
 */
export function closedCheckout(
  checkout: Checkout,
  status: ClosedCheckoutStatus,
  now: Date,
  cancellationReason: CancellationReason | null = null,
): Checkout {
  return {
    ...checkout,
    status,
    cancellationReason: status === 'CANCELED' ? cancellationReason : checkout.cancellationReason,
    completedAt: status === 'COMPLETED' ? now : checkout.completedAt,
    canceledAt: status === 'CANCELED' ? now : checkout.canceledAt,
    expiredAt: status === 'EXPIRED' ? now : checkout.expiredAt,
    activePaymentId: null,
    updatedAt: now,
    version: checkout.version + 1,
  };
}

/**
 * Closes an OPEN session and clears any in-flight payment marker: a write of the caller's unit of work.
 * Callers hold the session's row lock and check the transition against `checkoutStateMachine` first (the
 * condition on OPEN is a second line of defence).
 */
export function closeCheckoutRow(
  tx: UnitOfWork,
  scope: Scope,
  id: string,
  status: ClosedCheckoutStatus,
  now: Date,
  cancellationReason: CancellationReason | null = null,
): void {
  tx.write(
    `UPDATE checkouts SET status = $1, ${CLOSED_AT_COLUMN[status]} = $2, updated_at = $2, version = version + 1,
       payment_started = ${PAYMENT_STARTED}, active_payment_id = NULL, cancellation_reason = $6
     WHERE id = $3 AND (merchant_id, livemode) IS NOT DISTINCT FROM ($4, $5) AND status = 'OPEN' RETURNING ${COLUMNS}`,
    [status, now, id, scope.merchantId, scope.livemode, cancellationReason],
  );
}

/**
 * For the payment flow: mark a payment attempt as in flight (or finished, with null); a session with an
 * attempt in flight reads as started, and clearing the attempt folds it into the stored flag (`PAYMENT_STARTED`),
 * so the order can no longer be replaced. The mark changes no indexed column: a HOT update. Only an OPEN session
 * accepts a new attempt; lock the row first (`findCheckout(…, { forUpdate: true })`) to check the rest.
 */
export function setActivePayment(
  tx: UnitOfWork,
  scope: Scope,
  id: string,
  paymentId: string | null,
  now: Date,
): { result(): Promise<Checkout | undefined> } {
  const pending = tx.write<CheckoutRow>(
    `UPDATE checkouts SET active_payment_id = $1::text, payment_started = ${PAYMENT_STARTED},
       updated_at = $2, version = version + 1
     WHERE id = $3 AND (merchant_id, livemode) IS NOT DISTINCT FROM ($4, $5) AND status = 'OPEN' RETURNING ${COLUMNS}`,
    [paymentId, now, id, scope.merchantId, scope.livemode],
  );
  return { result: async () => readCheckout(await pending.result()) };
}

/**
 * An OPEN session's deadline, NULL for any other status: the key of `checkouts_open_deadline_idx`, which
 * only a statement comparing this very expression can use. `status = 'OPEN'` alone must not reach an index
 * of open sessions: the by-id guards above say it, and a planner whose statistics saw no open session would
 * scan every open session rather than look the id up (docs/performance.md, "Primary-key lookups whatever
 * the number of open checkouts").
 */
const OPEN_DEADLINE = `(CASE WHEN status = 'OPEN' THEN expires_at END)`;

/**
 * The expiry sweep's claim: OPEN sessions past their deadline with no payment in flight, oldest first, locked
 * with SKIP LOCKED so several gateway processes (or a request locking one session) never wait on each other
 * or expire a session twice. The row lock re-checks the WHERE clause on the latest row version.
 */
export async function claimDueCheckouts(tx: Queryable, now: Date, limit: number): Promise<Checkout[]> {
  const { rows } = await tx.query<CheckoutRow>(
    `${PLANNED_PER_CALL}SELECT ${COLUMNS} FROM checkouts
      WHERE ${OPEN_DEADLINE} <= $1 AND active_payment_id IS NULL
      ORDER BY ${OPEN_DEADLINE} LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return rows.map(toCheckout);
}
