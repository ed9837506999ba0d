import { isRepeatedForm, recordFormOnce } from '../form-once.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.ts';
import { isCurrencyCode } from '../../lib/currencies.ts';
import { pooledRandomHex } from '../../lib/random.ts';
import { checkoutServiceDeps } from '../../modules/checkouts/checkout.service.ts';
import { renderQrSvg } from '../../modules/payment-links/payment-link.qr.ts';
import { ZCreatePaymentLink } from '../../modules/payment-links/payment-link.schemas.ts';
import {
  createPaymentLink,
  deactivatePaymentLink,
  getPaymentLink,
  listPaymentLinksOf,
} from '../../modules/payment-links/payment-link.service.ts';
import { paymentLinkUrl } from '../../modules/payment-links/payment-link.tokens.ts';
import { roleAllows } from '../../modules/users/permissions.ts';
import { appErrorProblems, zodProblems, type FormProblem } from '../form-errors.ts';
import {
  DashboardRefusal,
  formKeyOf,
  formText,
  NATURAL_POST,
  noticeOf,
  parseFormAmount,
  TRANSACTIONAL_POST,
  type Context,
  pageFeedback,
} from '../kit.tsx';
import {
  EMPTY_LINK_DRAFT,
  PaymentLinkPage,
  PaymentLinksPage,
  type LinkDraft,
} from '../pages/payment-links.tsx';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

const NOTICES: Record<string, string> = {
  created: 'The payment link was created. Share its address or QR code.',
  deactivated: 'The link was deactivated: it can no longer be opened or paid.',
};

const LABELS: Record<string, string> = {
  'order.total_amount': 'Amount',
  'order.subtotal_amount': 'Amount',
  'order.currency': 'Currency',
  'order.country_code': 'Country',
  'order.merchant_order_id': 'Order number',
  'order.products.0.name': 'Description',
  completed_redirect_url: 'After paying, go to',
  canceled_redirect_url: 'After canceling, go to',
  max_completions: 'Times it can be paid',
  expires_in_seconds: 'Valid for',
  usage: 'Usage',
};

const REQUEST_PATH = '/dashboard/payment-links';

/** Payment links (create with QR code, copy, deactivate), through the service behind /v1/payment-links. */
export function registerPaymentLinkRoutes(scope: KassaApp, kit: DashboardKit) {
  const { services, db, sendPage, auditAction, readPage, writeActionContext } = kit;
  const deps = checkoutServiceDeps(services);

  async function linksPage(
    request: FastifyRequest,
    reply: FastifyReply,
    context: Context,
    extra: { statusCode?: number; draft?: LinkDraft; problems?: FormProblem[] } = {},
  ) {
    const links = await listPaymentLinksOf(db, context.scope, { limit: 100 });
    return sendPage(reply, extra.statusCode ?? 200, (nonce) => (
      <PaymentLinksPage
        nonce={nonce}
        viewer={context.viewer}
        links={links.slice(0, 100)}
        canWrite={roleAllows(context.session.user.role, 'payment_links', 'write')}
        formKey={pooledRandomHex(16)}
        draft={extra.draft ?? EMPTY_LINK_DRAFT}
        problems={extra.problems}
        notice={noticeOf(request, NOTICES)}
      />
    ));
  }

  readPage(scope, '/dashboard/payment-links', 'payment_links', linksPage);

  readPage(scope, '/dashboard/payment-links/:id', 'payment_links', async (request, reply, context) => {
    const id = (request.params as { id: string }).id;
    const link = await getPaymentLink(db, context.scope, id).catch((error: unknown) => {
      if (error instanceof AppError && error.status === 404)
        throw new DashboardRefusal(404, 'Not found', `There is no payment link ${id} in this mode.`);
      throw error;
    });
    const url = paymentLinkUrl(services.config.publicUrl, services.keyring, link.id);
    const qrSvg = await renderQrSvg(url);
    return sendPage(reply, 200, (nonce) => (
      <PaymentLinkPage
        nonce={nonce}
        viewer={context.viewer}
        link={link}
        url={url}
        qrSvg={qrSvg}
        canWrite={roleAllows(context.session.user.role, 'payment_links', 'write')}
        {...pageFeedback(request, NOTICES)}
      />
    ));
  });

  /**
   * Creates a link from a few fields: one product line of the amount, so the order's totals hold. The form's
   * key is recorded in the idempotency table in the same transaction as the link, so the same form sent twice
   * makes one link, and the second answer leads to it.
   */
  scope.post(REQUEST_PATH, { config: TRANSACTIONAL_POST, schema: { hide: true } }, async (request, reply) => {
    const context = await writeActionContext(request, 'payment_links');
    const formKey = formKeyOf(request);
    const text = (name: string) => formText(request, name).trim();
    const draft: LinkDraft = {
      amount: text('amount'),
      currency: text('currency').toUpperCase(),
      description: text('description'),
      merchantOrderId: text('merchant_order_id'),
      country: text('country').toUpperCase(),
      completedUrl: text('completed_redirect_url'),
      canceledUrl: text('canceled_redirect_url'),
      usage: text('usage') === 'reusable' ? 'reusable' : 'single',
      maxCompletions: text('max_completions'),
      validDays: text('valid_days') || '14',
    };
    const refuse = (problems: FormProblem[]) =>
      linksPage(request, reply, context, { statusCode: 422, draft, problems });
    const amount = isCurrencyCode(draft.currency) ? parseFormAmount(draft.amount, draft.currency) : undefined;
    if (!isCurrencyCode(draft.currency))
      return refuse([{ field: 'Currency', message: 'must be an ISO 4217 code such as EUR' }]);
    if (amount === undefined) return refuse([{ field: 'Amount', message: 'enter an amount such as 12.50' }]);
    const validDays = /^\d{1,3}$/.test(draft.validDays) ? Number(draft.validDays) : Number.NaN;
    const parsed = ZCreatePaymentLink.safeParse({
      // Both are optional: without them the shopper ends on Kassa's own paid or canceled page.
      ...(draft.completedUrl ? { completed_redirect_url: draft.completedUrl } : {}),
      ...(draft.canceledUrl ? { canceled_redirect_url: draft.canceledUrl } : {}),
      usage: draft.usage,
      ...(draft.maxCompletions ? { max_completions: Number(draft.maxCompletions) } : {}),
      expires_in_seconds: validDays * 86_400,
      order: {
        merchant_order_id: draft.merchantOrderId || `LINK-${formKey.slice(0, 10).toUpperCase()}`,
        currency: draft.currency,
        country_code: draft.country,
        subtotal_amount: amount,
        total_amount: amount,
        products: [{ id: 'payment-link', name: draft.description, quantity: 1, unit_price: amount }],
      },
    });
    if (!parsed.success) return refuse(zodProblems(parsed.error, LABELS));
    let linkId: string;
    try {
      linkId = await db.transaction(async (tx) => {
        const link = await createPaymentLink(tx, deps, context.scope, parsed.data);
        await recordFormOnce(tx, request, context.scope, formKey, REQUEST_PATH, { id: link.id });
        return link.id;
      });
    } catch (error) {
      if (isRepeatedForm(error)) {
        // The same form again: lead to the link it made the first time.
        const { rows } = await db.query<{ response_body: string }>(
          `SELECT response_body FROM idempotency_keys
            WHERE merchant_id = $1 AND livemode = $2 AND idempotency_key = $3 AND request_path = $4`,
          [context.scope.merchantId, context.scope.livemode, `dashboard:${formKey}`, REQUEST_PATH],
        );
        const stored = rows[0] && JSON.parse(request.server.idempotencyResponses.open(rows[0].response_body));
        return kit.seeOther(reply, stored?.id ? `/dashboard/payment-links/${stored.id}` : REQUEST_PATH);
      }
      const problems = appErrorProblems(error, LABELS);
      if (problems) return refuse(problems);
      throw error;
    }
    services.outbox.notify();
    await auditAction(request, context, {
      action: 'payment_link.created',
      objectType: 'payment_link',
      objectId: linkId,
      details: { livemode: context.scope.livemode, amount, currency: draft.currency },
    });
    return kit.seeOther(reply, `/dashboard/payment-links/${linkId}?notice=created`);
  });

  scope.post(
    '/dashboard/payment-links/:id/deactivate',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'payment_links');
      const id = (request.params as { id: string }).id;
      const back = (query: string) => kit.seeOther(reply, `/dashboard/payment-links/${id}?${query}`);
      try {
        const current = await getPaymentLink(db, context.scope, id);
        // Sent twice: the link is deactivated already, which is what was asked.
        if (current.status === 'DEACTIVATED') return back('notice=deactivated');
        await db.transaction((tx) => deactivatePaymentLink(tx, deps, context.scope, id));
      } catch (error) {
        if (error instanceof AppError && error.status === 404)
          throw new DashboardRefusal(404, 'Not found', `There is no payment link ${id} in this mode.`);
        if (error instanceof AppError) return back(`error=${error.code}`);
        throw error;
      }
      services.outbox.notify();
      await auditAction(request, context, {
        action: 'payment_link.deactivated',
        objectType: 'payment_link',
        objectId: id,
        details: { livemode: context.scope.livemode },
      });
      return back('notice=deactivated');
    },
  );
}
