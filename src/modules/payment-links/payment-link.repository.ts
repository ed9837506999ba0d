import { PLANNED_PER_CALL, type Queryable } from '../../db/client.ts';
import { fetchPage, type PageRequest } from '../../db/pagination.ts';
import type { CaptureMode, Scope } from '../checkouts/checkout.types.ts';
import type { Metadata } from '../orders/order.types.ts';
import type { PaymentMethodType } from '../payment-methods/eligibility.ts';
import type { ClosedPaymentLinkStatus, PaymentLinkStatus } from './payment-link.states.ts';
import type { PaymentLink, PaymentLinkOrder, PaymentLinkUsage } from './payment-link.types.ts';

type PaymentLinkRow = {
  id: string;
  merchant_id: string;
  livemode: boolean;
  status: PaymentLinkStatus;
  order_input: PaymentLinkOrder;
  completed_redirect_url: string | null;
  canceled_redirect_url: string | null;
  landing_url: string | null;
  locale: string | null;
  capture: CaptureMode | null;
  payment_methods: PaymentMethodType[] | null;
  metadata: Metadata;
  usage: PaymentLinkUsage;
  max_completions: number;
  completions: number;
  activation_window_seconds: number;
  expires_at: Date;
  first_opened_at: Date | null;
  completable_until: Date | null;
  completed_at: Date | null;
  expired_at: Date | null;
  deactivated_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
};

const COLUMNS = `payment_links.id, payment_links.merchant_id, payment_links.livemode, payment_links.status,
  payment_links.order_input, payment_links.completed_redirect_url, payment_links.canceled_redirect_url,
  payment_links.landing_url, payment_links.locale, payment_links.capture, payment_links.payment_methods,
  payment_links.metadata, payment_links.usage, payment_links.max_completions, payment_links.completions,
  payment_links.activation_window_seconds, payment_links.expires_at, payment_links.first_opened_at,
  payment_links.completable_until, payment_links.completed_at, payment_links.expired_at,
  payment_links.deactivated_at, payment_links.created_at, payment_links.updated_at, payment_links.version`;

function toPaymentLink(row: PaymentLinkRow): PaymentLink {
  return {
    id: row.id,
    merchantId: row.merchant_id,
    livemode: row.livemode,
    status: row.status,
    order: row.order_input,
    completedRedirectUrl: row.completed_redirect_url,
    canceledRedirectUrl: row.canceled_redirect_url,
    landingUrl: row.landing_url,
    locale: row.locale,
    capture: row.capture,
    paymentMethods: row.payment_methods,
    metadata: row.metadata,
    usage: row.usage,
    maxCompletions: row.max_completions,
    completions: row.completions,
    activationWindowSeconds: row.activation_window_seconds,
    expiresAt: row.expires_at,
    firstOpenedAt: row.first_opened_at,
    completableUntil: row.completable_until,
    completedAt: row.completed_at,
    expiredAt: row.expired_at,
    deactivatedAt: row.deactivated_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: row.version,
  };
}

/** What the merchant chose for a new link (the rest starts empty). */
export type NewPaymentLink = Pick<
  PaymentLink,
  | 'id'
  | 'order'
  | 'completedRedirectUrl'
  | 'canceledRedirectUrl'
  | 'landingUrl'
  | 'locale'
  | 'capture'
  | 'paymentMethods'
  | 'metadata'
  | 'usage'
  | 'maxCompletions'
  | 'activationWindowSeconds'
  | 'expiresAt'
> & { now: Date };

export async function insertPaymentLink(
  tx: Queryable,
  scope: Scope,
  link: NewPaymentLink,
): Promise<PaymentLink> {
  const { rows } = await tx.query<PaymentLinkRow>(
    `INSERT INTO payment_links (id, merchant_id, livemode, status, order_input, completed_redirect_url,
       canceled_redirect_url, landing_url, locale, capture, payment_methods, metadata, usage, max_completions,
       activation_window_seconds, expires_at, created_at, updated_at)
     VALUES ($1, $2, $3, 'ACTIVE', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
     RETURNING ${COLUMNS}`,
    [
      link.id,
      scope.merchantId,
      scope.livemode,
      JSON.stringify(link.order),
      link.completedRedirectUrl,
      link.canceledRedirectUrl,
      link.landingUrl,
      link.locale,
      link.capture,
      link.paymentMethods,
      JSON.stringify(link.metadata),
      link.usage,
      link.maxCompletions,
      link.activationWindowSeconds,
      link.expiresAt,
      link.now,
    ],
  );
  return toPaymentLink(rows[0]!);
}

/** A merchant's link; `forUpdate` locks the row until the transaction ends (use it before any change). */
export async function findPaymentLink(
  db: Queryable,
  scope: Scope,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<PaymentLink | undefined> {
  const { rows } = await db.query<PaymentLinkRow>(
    `SELECT ${COLUMNS} FROM payment_links WHERE id = $1 AND merchant_id = $2 AND livemode = $3
     ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [id, scope.merchantId, scope.livemode],
  );
  return rows[0] ? toPaymentLink(rows[0]) : undefined;
}

/** Several links at once (expansions of a list page); missing ids are left out. */
export async function findPaymentLinks(db: Queryable, scope: Scope, ids: string[]): Promise<PaymentLink[]> {
  const { rows } = await db.query<PaymentLinkRow>(
    `SELECT ${COLUMNS} FROM payment_links WHERE id = ANY($1) AND merchant_id = $2 AND livemode = $3`,
    [ids, scope.merchantId, scope.livemode],
  );
  return rows.map(toPaymentLink);
}

/**
 * A link by id alone, for the public `/l/{id}/{signature}` pages: the caller has verified the signature,
 * which only Kassa can make, so the id is the capability and the row names its own merchant and mode.
 */
export async function findPaymentLinkBySignedId(
  db: Queryable,
  id: string,
  options: { forUpdate?: boolean } = {},
): Promise<PaymentLink | undefined> {
  const { rows } = await db.query<PaymentLinkRow>(
    `SELECT ${COLUMNS} FROM payment_links WHERE id = $1 ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ? toPaymentLink(rows[0]) : undefined;
}

export type PaymentLinkListFilters = PageRequest & {
  status?: PaymentLinkStatus | undefined;
};

/** A page of payment links, newest first (`limit + 1` rows: src/db/pagination.ts). */
export async function listPaymentLinks(
  db: Queryable,
  scope: Scope,
  filters: PaymentLinkListFilters,
): Promise<PaymentLink[]> {
  const rows = await fetchPage<PaymentLinkRow>(
    db,
    {
      alias: 'payment_links',
      from: 'payment_links',
      columns: COLUMNS,
      scope: [
        (p) => `payment_links.merchant_id = ${p(scope.merchantId)}`,
        (p) => `payment_links.livemode = ${p(scope.livemode)}`,
      ],
      filters: filters.status === undefined ? [] : [(p) => `payment_links.status = ${p(filters.status)}`],
    },
    filters,
  );
  return rows.map(toPaymentLink);
}

/** The first visit: starts the activation window (never beyond the link's validity). Only once. */
export async function markPaymentLinkOpened(
  tx: Queryable,
  id: string,
  now: Date,
  completableUntil: Date,
): Promise<PaymentLink | undefined> {
  const { rows } = await tx.query<PaymentLinkRow>(
    `UPDATE payment_links SET first_opened_at = $1, completable_until = $2, updated_at = $1, version = version + 1
     WHERE id = $3 AND first_opened_at IS NULL RETURNING ${COLUMNS}`,
    [now, completableUntil, id],
  );
  return rows[0] ? toPaymentLink(rows[0]) : undefined;
}

const CLOSED_AT_COLUMN: Record<ClosedPaymentLinkStatus, string> = {
  COMPLETED: 'completed_at',
  EXPIRED: 'expired_at',
  DEACTIVATED: 'deactivated_at',
};

/** ACTIVE → `status` (conditional: undefined when the link was no longer ACTIVE). Check the table first. */
export async function closePaymentLinkRow(
  tx: Queryable,
  id: string,
  status: ClosedPaymentLinkStatus,
  now: Date,
): Promise<PaymentLink | undefined> {
  const { rows } = await tx.query<PaymentLinkRow>(
    `UPDATE payment_links SET status = $1, ${CLOSED_AT_COLUMN[status]} = $2, updated_at = $2, version = version + 1
     WHERE id = $3 AND status = 'ACTIVE' RETURNING ${COLUMNS}`,
    [status, now, id],
  );
  return rows[0] ? toPaymentLink(rows[0]) : undefined;
}

export async function incrementPaymentLinkCompletions(
  tx: Queryable,
  id: string,
  now: Date,
): Promise<PaymentLink> {
  const { rows } = await tx.query<PaymentLinkRow>(
    `UPDATE payment_links SET completions = completions + 1, updated_at = $1, version = version + 1
     WHERE id = $2 RETURNING ${COLUMNS}`,
    [now, id],
  );
  return toPaymentLink(rows[0]!);
}

/** The link a checkout session was opened from, locked; undefined for an ordinary checkout. */
export async function findPaymentLinkOfCheckout(
  tx: Queryable,
  checkoutId: string,
): Promise<PaymentLink | undefined> {
  const { rows } = await tx.query<PaymentLinkRow>(
    `SELECT ${COLUMNS} FROM payment_links JOIN checkouts ON checkouts.payment_link_id = payment_links.id
      WHERE checkouts.id = $1 FOR UPDATE OF payment_links`,
    [checkoutId],
  );
  return rows[0] ? toPaymentLink(rows[0]) : undefined;
}

/** The link's sessions that can still be paid (OPEN, before their deadline), newest first. */
export async function findOpenSessionsOfPaymentLink(
  tx: Queryable,
  linkId: string,
  now: Date,
): Promise<{ id: string }[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT id FROM checkouts WHERE payment_link_id = $1 AND status = 'OPEN' AND expires_at > $2
      ORDER BY created_at DESC, id DESC`,
    [linkId, now],
  );
  return rows;
}

/**
 * Gives an open session of the link a new client token (for a visitor sent to the merchant's landing page:
 * the old token is stored only as a digest and cannot be handed out again). SKIP LOCKED: a session locked
 * right now is being paid or closed — and the payment flow, holding it, may be waiting for the link this
 * caller holds — so it is skipped (false) rather than waited for, which could deadlock.
 */
export async function replaceSessionClientToken(
  tx: Queryable,
  checkoutId: string,
  digest: Buffer,
): Promise<boolean> {
  const { rowCount } = await tx.query(
    `UPDATE checkouts SET client_token_sha256 = $1
      WHERE id = (SELECT id FROM checkouts WHERE id = $2 AND status = 'OPEN' FOR UPDATE SKIP LOCKED)`,
    [digest, checkoutId],
  );
  return (rowCount ?? 0) === 1;
}

/**
 * Open sessions of the link with no payment in flight, locked with SKIP LOCKED (same reason as above), so a
 * deactivation can close them.
 */
export async function claimIdleSessionsOfPaymentLink(
  tx: Queryable,
  linkId: string,
): Promise<{ id: string }[]> {
  const { rows } = await tx.query<{ id: string }>(
    `${PLANNED_PER_CALL}SELECT id FROM checkouts WHERE payment_link_id = $1 AND status = 'OPEN' AND active_payment_id IS NULL
      FOR UPDATE SKIP LOCKED`,
    [linkId],
  );
  return rows;
}

/** The expiry sweep's claim: ACTIVE links past their deadline, locked with SKIP LOCKED. */
export async function claimDuePaymentLinks(tx: Queryable, now: Date, limit: number): Promise<PaymentLink[]> {
  const { rows } = await tx.query<PaymentLinkRow>(
    `${PLANNED_PER_CALL}SELECT ${COLUMNS} FROM payment_links
      WHERE status = 'ACTIVE' AND coalesce(completable_until, expires_at) <= $1
      ORDER BY coalesce(completable_until, expires_at) LIMIT $2 FOR UPDATE SKIP LOCKED`,
    [now, limit],
  );
  return rows.map(toPaymentLink);
}

/** Writes a link's new metadata (the caller holds its row lock), raising its version. */
export async function updatePaymentLinkMetadata(
  db: Queryable,
  id: string,
  metadata: Metadata,
  now: Date,
): Promise<PaymentLink> {
  const { rows } = await db.query<PaymentLinkRow>(
    `UPDATE payment_links SET metadata = $2, updated_at = $3, version = version + 1
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, JSON.stringify(metadata), now],
  );
  return toPaymentLink(rows[0]!);
}
