import type { Database, Queryable, UnitOfWork } from '../../db/client.ts';
import { addSeconds } from '../../lib/clock.ts';
import { notFoundError, validationError, type FieldError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import { appendQueryParams } from '../../lib/merchant-urls.ts';
import { patchedMetadata, type MetadataPatch } from '../../lib/metadata.ts';
import {
  checkProcessorCoverage,
  closeCheckout,
  createCheckout,
  type CheckoutServiceDeps,
} from '../checkouts/checkout.service.ts';
import { checkoutRedirectUrl, newClientToken } from '../checkouts/checkout.tokens.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import { refuseRedirectUrl } from '../checkouts/checkout.urls.ts';
import { findMerchantById } from '../merchants/merchant.service.ts';
import type { Merchant } from '../merchants/merchant.types.ts';
import { emitPaymentLinkEvent } from './payment-link.events.ts';
import { renderQrPngDataUrl } from './payment-link.qr.ts';
import {
  claimDuePaymentLinks,
  claimIdleSessionsOfPaymentLink,
  closePaymentLinkRow,
  findOpenSessionsOfPaymentLink,
  findPaymentLink,
  findPaymentLinkBySignedId,
  insertPaymentLink,
  listPaymentLinks,
  markPaymentLinkOpened,
  replaceSessionClientToken,
  updatePaymentLinkMetadata,
  type PaymentLinkListFilters,
} from './payment-link.repository.ts';
import type { CreatePaymentLinkRequest } from './payment-link.schemas.ts';
import { paymentLinkEventType, paymentLinkStateMachine } from './payment-link.states.ts';
import { paymentLinkUrl, verifyPaymentLinkSignature } from './payment-link.tokens.ts';
import { paymentLinkDeadline, type PaymentLink } from './payment-link.types.ts';

/**
 * Payment links (docs/payment-links.md, the payment-link flow): create, read, deactivate, open (one checkout session per visit) and the
 * expiry sweep. Counting completions lives in `payment-link.completion.ts`, called by `closeCheckout`.
 *
 * Invariant: a link never has more payable sessions (OPEN, before their deadline) than completions it has
 * left (`max_completions − completions`). Each session is paid at most once (the payment flow's guarantee), so
 * a link is never paid more often than its cap. A visitor who arrives while every remaining completion is
 * held by a payable session joins the newest of them instead of getting a session of their own.
 */

export type PaymentLinkServiceDeps = CheckoutServiceDeps;

export async function createPaymentLink(
  tx: UnitOfWork,
  deps: PaymentLinkServiceDeps,
  scope: Scope,
  request: CreatePaymentLinkRequest,
): Promise<PaymentLink> {
  const merchant = await findMerchantById(tx, scope.merchantId);
  if (!merchant) throw notFoundError('merchant', scope.merchantId);
  const urlErrors: FieldError[] = [];
  for (const [field, url] of [
    ['completed_redirect_url', request.completed_redirect_url],
    ['canceled_redirect_url', request.canceled_redirect_url],
    ['landing_url', request.landing_url],
  ] as const) {
    if (url === undefined) continue;
    const reason = refuseRedirectUrl(url, scope.livemode);
    if (reason) urlErrors.push({ pointer: `/${field}`, code: 'invalid_url', message: reason });
  }
  await checkProcessorCoverage(tx, deps, scope, request.order.currency, request.payment_methods, urlErrors);
  if (urlErrors.length > 0) throw validationError(urlErrors);

  const now = deps.clock.now();
  const link = await insertPaymentLink(tx, scope, {
    id: newId('pl'),
    order: request.order,
    completedRedirectUrl: request.completed_redirect_url ?? null,
    canceledRedirectUrl: request.canceled_redirect_url ?? null,
    landingUrl: request.landing_url ?? null,
    locale: request.locale ?? null,
    capture: request.capture_mode ?? null,
    paymentMethods: request.payment_methods ?? null,
    metadata: request.metadata,
    usage: request.usage,
    maxCompletions: request.usage === 'single' ? 1 : request.max_completions!,
    activationWindowSeconds: request.activation_window_seconds,
    expiresAt: addSeconds(now, request.expires_in_seconds),
    now,
  });
  await emitPaymentLinkEvent(tx, deps, link, 'payment_link.created');
  return link;
}

export async function getPaymentLink(db: Queryable, scope: Scope, id: string): Promise<PaymentLink> {
  const link = await findPaymentLink(db, scope, id);
  if (!link) throw notFoundError('payment_link', id);
  return link;
}

export function listPaymentLinksOf(db: Queryable, scope: Scope, filters: PaymentLinkListFilters) {
  return listPaymentLinks(db, scope, filters);
}

/**
 * `PATCH /v1/payment-links/{id}`: the link's `metadata`, merged key by key (docs/api-conventions.md, Metadata), in
 * any status. A patch that changes nothing keeps the version. Sessions already made keep the metadata they were
 * made with; the next ones take the new one.
 */
export async function updatePaymentLink(
  tx: UnitOfWork,
  deps: Pick<PaymentLinkServiceDeps, 'clock'>,
  scope: Scope,
  id: string,
  patch: { metadata?: MetadataPatch | null | undefined },
): Promise<PaymentLink> {
  const link = await findPaymentLink(tx, scope, id, { forUpdate: true });
  if (!link) throw notFoundError('payment_link', id);
  const metadata = patchedMetadata(link.metadata, patch.metadata);
  if (!metadata) return link;
  return updatePaymentLinkMetadata(tx, link.id, metadata, deps.clock.now());
}

/** The QR code (PNG data URL) of the link's URL. */
export function paymentLinkQrCode(
  deps: Pick<PaymentLinkServiceDeps, 'keyring' | 'publicUrl'>,
  link: PaymentLink,
) {
  return renderQrPngDataUrl(paymentLinkUrl(deps.publicUrl, deps.keyring, link.id));
}

/**
 * ACTIVE → DEACTIVATED with `payment_link.deactivated`; the link's payable sessions with no payment in flight
 * are expired with it (a session being paid right now is left to finish). Anything but ACTIVE is a 409.
 */
export async function deactivatePaymentLink(
  tx: UnitOfWork,
  deps: PaymentLinkServiceDeps,
  scope: Scope,
  id: string,
): Promise<PaymentLink> {
  const link = await findPaymentLink(tx, scope, id, { forUpdate: true });
  if (!link) throw notFoundError('payment_link', id);
  paymentLinkStateMachine.assertTransition(link.status, 'DEACTIVATED', 'deactivate');
  const deactivated = await closeLink(tx, deps, link, 'DEACTIVATED');
  for (const session of await claimIdleSessionsOfPaymentLink(tx, link.id)) {
    await closeCheckout(tx, deps, scope, session.id, 'EXPIRED', { action: 'expire' });
  }
  return deactivated;
}

async function closeLink(
  tx: UnitOfWork,
  deps: PaymentLinkServiceDeps,
  link: PaymentLink,
  status: 'EXPIRED' | 'DEACTIVATED',
): Promise<PaymentLink> {
  const closed = await closePaymentLinkRow(tx, link.id, status, deps.clock.now());
  if (!closed) throw new Error(`Payment link ${link.id} changed while locked`);
  await emitPaymentLinkEvent(tx, deps, closed, paymentLinkEventType(status));
  return closed;
}

/** Why a visit gets a page instead of a session. `busy`: the only payable session is being paid right now. */
export type ClosedLinkReason = 'expired' | 'used' | 'deactivated' | 'busy';

export type PaymentLinkVisit =
  | { kind: 'not_found' }
  | { kind: 'closed'; reason: ClosedLinkReason; link: PaymentLink; merchant: Merchant }
  | { kind: 'redirect'; location: string; checkoutId: string; createdSession: boolean };

/**
 * A shopper opens `/l/{id}/{signature}`. Under the link's row lock (so parallel visits are serialised):
 * a closed or past-deadline link answers with its reason and creates nothing (a link found past its deadline
 * is expired on the spot, as the sweep would); the first visit starts the activation window; then the visitor
 * gets a new checkout session (expiring with the link's deadline) or joins a payable one (see the module
 * invariant), and is sent to Kassa's payment page — or to the merchant's landing page with the session id
 * and a fresh client token for the browser SDK.
 */
export async function openPaymentLink(
  db: Database,
  deps: PaymentLinkServiceDeps,
  id: string,
  signature: string,
): Promise<PaymentLinkVisit> {
  // The signature is checked before the database is asked anything: an unsigned id tells nothing.
  if (!verifyPaymentLinkSignature(deps.keyring, id, signature)) return { kind: 'not_found' };
  return db.transaction(async (tx) => {
    const found = await findPaymentLinkBySignedId(tx, id, { forUpdate: true });
    if (!found) return { kind: 'not_found' };
    const scope = { merchantId: found.merchantId, livemode: found.livemode };
    const now = deps.clock.now();
    const closed = async (reason: ClosedLinkReason, link: PaymentLink): Promise<PaymentLinkVisit> => {
      const merchant = await findMerchantById(tx, link.merchantId);
      if (!merchant) throw new Error(`Payment link ${link.id} has no merchant`);
      return { kind: 'closed', reason, link, merchant };
    };
    switch (found.status) {
      case 'ACTIVE':
        break;
      case 'COMPLETED':
        return closed('used', found);
      case 'EXPIRED':
        return closed('expired', found);
      case 'DEACTIVATED':
        return closed('deactivated', found);
      default: {
        const unreachable: never = found.status;
        throw new Error(`Unknown payment link status ${String(unreachable)}`);
      }
    }
    if (paymentLinkDeadline(found) <= now)
      return closed('expired', await closeLink(tx, deps, found, 'EXPIRED'));

    let link = found;
    if (!link.firstOpenedAt) {
      const windowEnd = addSeconds(now, link.activationWindowSeconds);
      const completableUntil = windowEnd < link.expiresAt ? windowEnd : link.expiresAt;
      link = (await markPaymentLinkOpened(tx, link.id, now, completableUntil)) ?? link;
    }
    const remaining = link.maxCompletions - link.completions;
    if (remaining <= 0) return closed('used', link);

    const payable = await findOpenSessionsOfPaymentLink(tx, link.id, now);
    if (payable.length >= remaining) {
      if (!link.landingUrl) {
        const joined = payable[0]!.id;
        return {
          kind: 'redirect',
          location: checkoutRedirectUrl(deps.publicUrl, deps.keyring, joined),
          checkoutId: joined,
          createdSession: false,
        };
      }
      for (const session of payable) {
        const { token, digest } = newClientToken();
        if (await replaceSessionClientToken(tx, session.id, digest)) {
          return {
            kind: 'redirect',
            location: landingLocation(link, session.id, token),
            checkoutId: session.id,
            createdSession: false,
          };
        }
      }
      return closed('busy', link);
    }

    // The session may be paid only until the link's deadline: it expires exactly then. One instant for the
    // whole visit (the session's clock is frozen at `now`), so "exactly" holds to the millisecond.
    const lifetimeSeconds = (paymentLinkDeadline(link).getTime() - now.getTime()) / 1000;
    const visitDeps = { ...deps, clock: { now: () => now } };
    // A link without redirect URLs (one sent with an invoice has no shop page to go back to) sends the shopper
    // back to the session's own page, which shows the outcome once the session is closed.
    const sessionId = newId('chk');
    const ownPage = checkoutRedirectUrl(deps.publicUrl, deps.keyring, sessionId);
    const { checkout, clientToken } = await createCheckout(
      tx,
      visitDeps,
      scope,
      {
        completed_redirect_url: link.completedRedirectUrl ?? ownPage,
        canceled_redirect_url: link.canceledRedirectUrl ?? ownPage,
        allow_save_payment_methods: false,
        locale: link.locale ?? undefined,
        capture_mode: link.capture ?? undefined,
        payment_methods: link.paymentMethods ?? undefined,
        metadata: link.metadata,
        expires_in_seconds: lifetimeSeconds,
        order: link.order,
      },
      // Written with the session, so its checkout.created event already names the link.
      { paymentLinkId: link.id, checkoutId: sessionId },
    );
    const checkoutId = checkout.checkout.id;
    const location = link.landingUrl
      ? landingLocation(link, checkoutId, clientToken)
      : checkoutRedirectUrl(deps.publicUrl, deps.keyring, checkoutId);
    return { kind: 'redirect', location, checkoutId, createdSession: true };
  });
}

/** The merchant's landing page with what the SDK's initFromQR() reads. */
function landingLocation(link: PaymentLink, checkoutId: string, clientToken: string): string {
  return appendQueryParams(link.landingUrl!, {
    kassa_link: link.id,
    kassa_session: checkoutId,
    kassa_token: clientToken,
  });
}

export const LINK_SWEEP_BATCH_SIZE = 100;
const LINK_SWEEP_MAX_BATCHES = 20;

/**
 * Moves every ACTIVE link past its deadline (validity, or the activation window once opened) to EXPIRED with
 * `payment_link.expired`, one transaction per batch, rows claimed with SKIP LOCKED so several gateway processes
 * can sweep at once. The link's sessions expire at the same deadline through the checkout sweep. Returns how
 * many links it expired.
 */
export async function sweepExpiredPaymentLinks(
  db: Database,
  deps: PaymentLinkServiceDeps,
  options: { batchSize?: number; maxBatches?: number } = {},
): Promise<number> {
  const batchSize = options.batchSize ?? LINK_SWEEP_BATCH_SIZE;
  const maxBatches = options.maxBatches ?? LINK_SWEEP_MAX_BATCHES;
  let expired = 0;
  for (let batch = 0; batch < maxBatches; batch += 1) {
    const count = await db.transaction(async (tx) => {
      const due = await claimDuePaymentLinks(tx, deps.clock.now(), batchSize);
      for (const link of due) await closeLink(tx, deps, link, 'EXPIRED');
      return due.length;
    });
    expired += count;
    if (count < batchSize) break;
  }
  return expired;
}
