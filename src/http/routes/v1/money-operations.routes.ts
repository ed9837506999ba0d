import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import {
  findScopedCapture,
  findScopedRefund,
  listScopedCaptures,
  listScopedRefunds,
} from '../../../modules/payments/money-operation.repository.ts';
import { presentRefundWithCurrency } from '../../../modules/payments/payment.events.ts';
import { presentCapture, presentPayment } from '../../../modules/payments/payment.presenter.ts';
import { findPayment } from '../../../modules/payments/payment.repository.ts';
import { ZCapture, ZPayment, ZRefund } from '../../../modules/payments/payment.schemas.ts';
import { zMetadataPatch } from '../../../lib/metadata.ts';
import { updateCapture, updateRefund } from '../../../modules/payments/money-operation-metadata.ts';
import { updatePayment } from '../../../modules/payments/payment-metadata.ts';
import { readExpand, zExpandParameter } from '../../expand.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';

/**
 * Captures and refunds by their own id, and the merchant's lists of them (newest first), beside the
 * per-payment lists under `/v1/payments/{id}/…`. Scoped to the caller's merchant and mode: another
 * merchant's or the other mode's id answers 404 like an unknown one. Also the metadata `PATCH` of payments,
 * captures and refunds (docs/api-conventions.md §5), which share one body and one merge.
 */
export function registerMoneyOperationRoutes(app: KassaApp, services: Services) {
  const tags = ['Payments'];
  const config = { auth: 'merchant', scope: 'payments' } as const;
  // A capture's or refund's payment, with expand[]=payment (docs/api-conventions.md §6).
  const expansions = { payment: 'payments' } as const;
  const expandQuery = z.object(zExpandParameter(Object.keys(expansions)));
  const withPayment = { payment: ZPayment.optional().describe('With expand[]=payment') };
  async function expandedPayment(
    request: Parameters<typeof requireMerchant>[0] & {
      query: { 'expand[]'?: string | string[] | undefined };
    },
    paymentId: string,
  ) {
    const principal = requireMerchant(request);
    if (!readExpand(request.query, principal, expansions).has('payment')) return {};
    const payment = await findPayment(services.db, principal, paymentId);
    return payment ? { payment: presentPayment(payment) } : {};
  }

  app.get(
    '/v1/captures',
    {
      config,
      schema: {
        tags,
        summary: "List the merchant's captures, newest first",
        querystring: ZListQuery,
        response: { 200: ZPage(ZCapture) },
      },
    },
    async (request) => {
      const page = toPageRequest(request.query);
      const rows = await listScopedCaptures(services.db, requireMerchant(request), page);
      return toPage(
        rows,
        page,
        ({ capture, currency }) => ({ ...presentCapture(capture), currency }),
        (capture) => capture.id,
      );
    },
  );

  app.get(
    '/v1/captures/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Retrieve a capture',
        params: z.object({ id: z.string().max(100).describe('The capture id (cap_…)') }),
        querystring: expandQuery,
        response: { 200: ZCapture.extend(withPayment) },
      },
    },
    async (request) => {
      const found = await findScopedCapture(services.db, requireMerchant(request), request.params.id);
      if (!found) throw notFoundError('capture', request.params.id);
      const capture = { ...presentCapture(found.capture), currency: found.currency };
      return { ...capture, ...(await expandedPayment(request, capture.payment_id)) };
    },
  );

  app.get(
    '/v1/refunds',
    {
      config,
      schema: {
        tags,
        summary: "List the merchant's refunds, newest first",
        querystring: ZListQuery,
        response: { 200: ZPage(ZRefund) },
      },
    },
    async (request) => {
      const page = toPageRequest(request.query);
      const rows = await listScopedRefunds(services.db, requireMerchant(request), page);
      return toPage(
        rows,
        page,
        ({ refund, currency }) => presentRefundWithCurrency(refund, currency),
        (refund) => refund.id,
      );
    },
  );

  app.get(
    '/v1/refunds/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Retrieve a refund',
        params: z.object({ id: z.string().max(100).describe('The refund id (ref_…)') }),
        querystring: expandQuery,
        response: { 200: ZRefund.extend(withPayment) },
      },
    },
    async (request) => {
      const found = await findScopedRefund(services.db, requireMerchant(request), request.params.id);
      if (!found) throw notFoundError('refund', request.params.id);
      const refund = presentRefundWithCurrency(found.refund, found.currency);
      return { ...refund, ...(await expandedPayment(request, refund.payment_id)) };
    },
  );

  const patchBody = z.strictObject({ metadata: zMetadataPatch.optional() });
  const patchDescription =
    '`metadata` only, merged key by key (a key set to null is removed; null removes every key), in any status. ' +
    'A patch that changes nothing writes nothing.';

  app.patch(
    '/v1/captures/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Update a capture',
        description: patchDescription,
        params: z.object({ id: z.string().max(100).describe('The capture id (cap_…)') }),
        body: patchBody,
        response: { 200: ZCapture },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const { capture, currency } = await services.db.transaction((tx) =>
        updateCapture(tx, principal, request.params.id, request.body, services.clock.now()),
      );
      return { ...presentCapture(capture), currency };
    },
  );

  app.patch(
    '/v1/refunds/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Update a refund',
        description: patchDescription,
        params: z.object({ id: z.string().max(100).describe('The refund id (ref_…)') }),
        body: patchBody,
        response: { 200: ZRefund },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const { refund, currency } = await services.db.transaction((tx) =>
        updateRefund(tx, principal, request.params.id, request.body, services.clock.now()),
      );
      return presentRefundWithCurrency(refund, currency);
    },
  );

  app.patch(
    '/v1/payments/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Update a payment',
        description: `${patchDescription} Raises \`version\` when it changes something.`,
        params: z.object({ id: z.string().max(100).describe('The payment id (pay_…)') }),
        body: patchBody,
        response: { 200: ZPayment },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const payment = await services.db.transaction((tx) =>
        updatePayment(tx, principal, request.params.id, request.body, services.clock.now()),
      );
      return presentPayment(payment);
    },
  );
}
