import type { FastifyReply, FastifyRequest } from 'fastify';
import { isConnectorError } from '../../connectors/connector.ts';
import type { SandboxPayment } from '../../connectors/sandbox/sandbox.connector.ts';
import { CARD_BRANDS, type CardBrand } from '../../lib/card.ts';
import { findCheckoutWithOrder } from '../../modules/checkouts/checkout.service.ts';
import type { CheckoutWithOrder } from '../../modules/checkouts/checkout.types.ts';
import { findMerchantById } from '../../modules/merchants/merchant.repository.ts';
import { findPaymentById } from '../../modules/payments/payment.repository.ts';
import type { Services } from '../../services.ts';
import type { KassaApp } from '../http.types.ts';
import { formField } from '../hosted/checkout-form.ts';
import { checkCsrfToken, issueCsrfToken } from '../hosted/csrf-token.ts';
import { checkoutFormOrigins, merchantBranding, pageLocaleFor } from '../hosted/hosted-checkout.ts';
import type { PageShellModel } from '../pages/page-layout.ts';
import { ASSET_BASE, sendNotFoundPage, sendPage } from '../hosted/page-reply.ts';
import { CHALLENGE_FORM_FIELDS, renderChallengePage } from '../pages/challenge-page.ts';
import { CSRF_FIELD } from '../pages/page-layout.ts';
import { WALLET_FORM_FIELDS, renderWalletPage } from '../pages/wallet-page.ts';

/**
 * The sandbox acquirer's own pages (test mode only; only sandbox payments have a reference here):
 *
 *   GET/POST /sandbox/3ds/:reference     "Complete authentication" / "Fail authentication"
 *   GET/POST /sandbox/wallet/:reference  "Approve" / "Decline"
 *
 * A decision goes to the sandbox (`completeChallenge` / `completeWallet`), which notifies the payment flow as
 * a real processor would; the shopper is then sent (303) to the payment's return URL on the payment page. A
 * payment already decided sends the shopper straight back: a second click changes nothing. The pages carry the
 * same security headers as the payment page, and CSRF tokens bound to the reference.
 */

type Kind = 'three_ds' | 'wallet';
type Loaded = {
  payment: SandboxPayment;
  session: CheckoutWithOrder;
  merchantName: string;
  /** The page's language sources (the checkout's locale, the shopper's Accept-Language, the merchant's default). */
  locale: Pick<PageShellModel, 'locale' | 'localeHints'>;
  formOrigins: string[];
};

const PATHS: Record<Kind, string> = { three_ds: '3ds', wallet: 'wallet' };
const csrfBinding = (reference: string) => `sandbox:${reference}`;

export function registerSandboxPageRoutes(app: KassaApp, services: Services) {
  const { db, keyring, clock, sandbox } = services;

  /** The sandbox payment of this kind behind the reference, with the checkout it pays; undefined → 404. */
  async function load(request: FastifyRequest, kind: Kind): Promise<Loaded | undefined> {
    const { reference } = request.params as { reference: string };
    const payment = await sandbox.findPayment(reference).catch((error: unknown) => {
      if (isConnectorError(error)) return null;
      throw error;
    });
    if (!payment || payment.actionKind !== kind) return undefined;
    const kassaPayment = await findPaymentById(db, payment.paymentId);
    if (!kassaPayment) return undefined;
    const scope = { merchantId: kassaPayment.merchantId, livemode: kassaPayment.livemode };
    const session = await findCheckoutWithOrder(db, scope, kassaPayment.checkoutId);
    const merchant = await findMerchantById(db, scope.merchantId);
    if (!session || !merchant) return undefined;
    return {
      payment,
      session,
      merchantName: merchantBranding(merchant).displayName,
      locale: pageLocaleFor(request, { checkout: session.checkout, order: session.order, merchant }),
      // The decision redirects to the payment page, which redirects on to the merchant.
      formOrigins: checkoutFormOrigins(session.checkout),
    };
  }

  function sendDecisionPage(
    reply: FastifyReply,
    kind: Kind,
    loaded: Loaded,
    statusCode: number,
  ): FastifyReply {
    const { payment, session } = loaded;
    const shell = {
      ...loaded.locale,
      assetBase: ASSET_BASE,
      merchant: { displayName: loaded.merchantName },
      amount: { amountMinor: payment.amount, currency: payment.currency },
      action: `/sandbox/${PATHS[kind]}/${payment.reference}`,
      csrfToken: issueCsrfToken(keyring, csrfBinding(payment.reference), clock.now()),
    };
    const brand = (CARD_BRANDS as readonly string[]).includes(payment.cardBrand ?? '')
      ? (payment.cardBrand as CardBrand)
      : 'unknown';
    return sendPage(
      reply,
      statusCode,
      (nonce) =>
        kind === 'three_ds'
          ? renderChallengePage({
              ...shell,
              nonce,
              ...(payment.cardLast4 ? { card: { brand, last4: payment.cardLast4 } } : {}),
            })
          : renderWalletPage({ ...shell, nonce, merchantOrderId: session.order.merchantOrderId }),
      loaded.formOrigins,
    );
  }

  function register(kind: Kind) {
    const path = `/sandbox/${PATHS[kind]}/:reference`;

    app.get(path, { schema: { hide: true }, config: { auth: 'public' } }, async (request, reply) => {
      const loaded = await load(request, kind);
      if (!loaded) return sendNotFoundPage(request, reply);
      if (loaded.payment.status !== 'requires_action') return reply.redirect(loaded.payment.returnUrl, 303);
      return sendDecisionPage(reply, kind, loaded, 200);
    });

    app.post(
      path,
      // Natural: the sandbox decides a payment once; a repeated decision returns the first one unchanged.
      { schema: { hide: true }, config: { auth: 'public', idempotency: 'natural' } },
      async (request, reply) => {
        const loaded = await load(request, kind);
        if (!loaded) return sendNotFoundPage(request, reply);
        if (loaded.payment.status !== 'requires_action') return reply.redirect(loaded.payment.returnUrl, 303);
        const token = formField(request.body, CSRF_FIELD);
        if (checkCsrfToken(keyring, csrfBinding(loaded.payment.reference), token, clock.now()) !== 'valid') {
          return sendDecisionPage(reply, kind, loaded, 403);
        }
        const reference = loaded.payment.reference;
        let resolution;
        if (kind === 'three_ds') {
          const outcome = formField(request.body, CHALLENGE_FORM_FIELDS.outcome);
          if (outcome !== 'complete' && outcome !== 'fail') return sendDecisionPage(reply, kind, loaded, 422);
          resolution = await sandbox.completeChallenge(reference, outcome === 'complete' ? 'pass' : 'fail');
        } else {
          const decision = formField(request.body, WALLET_FORM_FIELDS.decision);
          if (decision !== 'approve' && decision !== 'decline')
            return sendDecisionPage(reply, kind, loaded, 422);
          resolution = await sandbox.completeWallet(reference, decision);
        }
        return reply.redirect(resolution.returnUrl, 303);
      },
    );
  }

  register('three_ds');
  register('wallet');
}
