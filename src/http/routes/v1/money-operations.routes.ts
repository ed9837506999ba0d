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
import { ZCapture, ZPayment, ZRefund } from '../../../modules/payments/payment.schemas.ts';
import type { Capture, Refund } from '../../../modules/payments/payment.types.ts';
import { zMetadataPatch } from '../../../lib/metadata.ts';
import { updateCapture, updateRefund } from '../../../modules/payments/money-operation-metadata.ts';
import { updatePayment } from '../../../modules/payments/payment-metadata.ts';
import { expansions } from '../../expansions.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';

/** A row of a capture list or a refund list (the merchant's, or one payment's) as the API shows it. */
export const presentCaptureRow = ({ capture, currency }: { capture: Capture; currency: string }) => ({
  ...presentCapture(capture),
  currency,
});
export const presentRefundRow = ({ refund, currency }: { refund: Refund; currency: string }) =>
  presentRefundWithCurrency(refund, currency);

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
  const captureExpansions = expansions(services, ZCapture, ['payment']);
  const refundExpansions = expansions(services, ZRefund, ['payment']);

  app.get(
    '/v1/captures',
    {
      config,
      schema: {
        tags,
        summary: "List the merchant's captures, newest first",
        querystring: ZListQuery.extend(captureExpansions.listQuery),
        response: { 200: ZPage(ZCapture.extend(captureExpansions.properties)) },
      },
    },
    async (request) => {
      const page = toPageRequest(request.query);
      const rows = await listScopedCaptures(services.db, requireMerchant(request), page);
      return captureExpansions.page(
        request,
        toPage(rows, page, presentCaptureRow, (capture) => capture.id),
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
        querystring: z.object(captureExpansions.query),
        response: { 200: ZCapture.extend(captureExpansions.properties) },
      },
    },
    async (request) => {
      const found = await findScopedCapture(services.db, requireMerchant(request), request.params.id);
      if (!found) throw notFoundError('capture', request.params.id);
      return captureExpansions.one(request, { ...presentCapture(found.capture), currency: found.currency });
    },
  );

  app.get(
    '/v1/refunds',
    {
      config,
      schema: {
        tags,
        summary: "List the merchant's refunds, newest first",
        querystring: ZListQuery.extend(refundExpansions.listQuery),
        response: { 200: ZPage(ZRefund.extend(refundExpansions.properties)) },
      },
    },
    async (request) => {
      const page = toPageRequest(request.query);
      const rows = await listScopedRefunds(services.db, requireMerchant(request), page);
      return refundExpansions.page(
        request,
        toPage(rows, page, presentRefundRow, (refund) => refund.id),
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
        querystring: z.object(refundExpansions.query),
        response: { 200: ZRefund.extend(refundExpansions.properties) },
      },
    },
    async (request) => {
      const found = await findScopedRefund(services.db, requireMerchant(request), request.params.id);
      if (!found) throw notFoundError('refund', request.params.id);
      return refundExpansions.one(request, presentRefundWithCurrency(found.refund, found.currency));
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
