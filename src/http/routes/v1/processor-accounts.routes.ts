import { z } from 'zod';
import { PAYMENT_METHOD_TYPES } from '../../../connectors/connector.ts';
import { PROCESSOR_NAMES } from '../../../connectors/processor.ts';
import { presentProcessorAccount } from '../../../modules/processor-accounts/processor-account.service.ts';
import { PROCESSOR_ACCOUNT_STATUSES } from '../../../modules/processor-accounts/processor-account.types.ts';
import { zMetadata, zMetadataPatch } from '../../../lib/metadata.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { respondIdempotently } from '../../idempotency.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';

const ZCredentials = z
  .record(z.string().max(100), z.string().max(4096))
  .describe(
    'The processor account\'s credentials. stripe: {"secret_key": "sk_test_…" | "sk_live_…", "webhook_secret": "whsec_…"}; ' +
      'adyen: {"api_key", "merchant_account", "hmac_key" (hex), "live_url_prefix" (live only)}; sandbox: {}.',
  );

const ZMultipleCaptures = z
  .boolean()
  .describe(
    'Payments of this account take several partial captures. adyen: set it to true only once Adyen has turned on ' +
      '"multiple partial captures" for the merchant account (default false: a partial capture releases the rest); ' +
      'stripe: always false; sandbox: always true. A value the processor does not allow is refused.',
  );

const ZPaymentMethods = z.array(z.enum(PAYMENT_METHOD_TYPES)).min(1).max(PAYMENT_METHOD_TYPES.length);
const ZCurrencies = z
  .array(z.string().regex(/^[A-Za-z]{3}$/))
  .min(1)
  .max(200)
  .describe('ISO 4217 codes this account takes; null or absent = every currency');

export const ZProcessorAccount = z
  .object({
    id: z.string(),
    object: z.literal('processor_account'),
    processor: z.enum(PROCESSOR_NAMES),
    livemode: z.boolean(),
    status: z.enum(PROCESSOR_ACCOUNT_STATUSES),
    payment_methods: z.array(z.enum(PAYMENT_METHOD_TYPES)),
    currencies: z.array(z.string()).nullable(),
    priority: z.number().int().describe('Lower is tried first'),
    multiple_captures: ZMultipleCaptures,
    api_base_url: z
      .string()
      .nullable()
      .describe('Another base URL for the processor (development and test only)'),
    webhook_url: z
      .string()
      .describe("Register this URL at the processor: its webhooks about this account's payments come here"),
    webhook_secret_set: z
      .boolean()
      .describe('False until the webhook secret / HMAC key is set; until then the webhooks are refused'),
    credentials: z
      .record(z.string(), z.string())
      .describe('Non-secret fields in full; secret fields as their last 4 characters only'),
    metadata: z
      .record(z.string(), z.union([z.string(), z.number(), z.boolean()]))
      .describe("The merchant's own data, never interpreted by Kassa"),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
    deleted_at: z.string().nullable(),
  })
  .meta({ id: 'ProcessorAccount' });

const ZDeletedProcessorAccount = z
  .object({ id: z.string(), object: z.literal('processor_account'), deleted: z.literal(true) })
  .meta({ id: 'DeletedProcessorAccount' });

const ZParams = z.object({ id: z.string().max(100) });

export function registerProcessorAccountRoutes(app: KassaApp, services: Services) {
  const accounts = services.processorAccounts;
  const publicUrl = services.config.publicUrl;
  const present = (account: Parameters<typeof presentProcessorAccount>[0]) =>
    presentProcessorAccount(account, publicUrl);
  const tags = ['Processor accounts'];

  app.post(
    '/v1/processor-accounts',
    {
      config: { auth: 'merchant', scope: 'processor_accounts', idempotency: 'transactional' },
      schema: {
        tags,
        summary: 'Connect a processor account',
        description:
          "Payments of the credential's mode are routed to the enabled account that takes their method and " +
          'currency, lowest `priority` first. The account takes the mode of the Kassa credential that creates ' +
          'it; credentials of the other mode are refused. Secrets are stored encrypted and never shown again ' +
          '(last 4 characters only). Register `webhook_url` at the processor.',
        body: z.strictObject({
          processor: z.enum(PROCESSOR_NAMES),
          credentials: ZCredentials,
          payment_methods: ZPaymentMethods,
          currencies: ZCurrencies.nullable().optional(),
          priority: z.number().int().min(-1000).max(1000).optional(),
          multiple_captures: ZMultipleCaptures.optional(),
          api_base_url: z.string().max(2048).nullable().optional(),
          metadata: zMetadata.optional(),
        }),
        response: { 201: ZProcessorAccount },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      const scope = { merchantId: principal.merchantId, livemode: principal.livemode };
      const body = request.body;
      return respondIdempotently(request, reply, services.db, 201, async (tx) =>
        present(
          await accounts.create(tx, scope, {
            processor: body.processor,
            credentials: body.credentials,
            paymentMethods: body.payment_methods,
            currencies: body.currencies,
            priority: body.priority,
            multipleCaptures: body.multiple_captures,
            apiBaseUrl: body.api_base_url,
            metadata: body.metadata,
          }),
        ),
      );
    },
  );

  app.get(
    '/v1/processor-accounts',
    {
      config: { auth: 'merchant', scope: 'processor_accounts' },
      schema: {
        tags,
        summary: 'List processor accounts, newest first',
        querystring: ZListQuery,
        response: { 200: ZPage(ZProcessorAccount) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const scope = { merchantId: principal.merchantId, livemode: principal.livemode };
      const page = toPageRequest(request.query);
      const rows = await accounts.list(services.db, scope, page);
      return toPage(rows, page, present, (account) => account.id);
    },
  );

  app.get(
    '/v1/processor-accounts/:id',
    {
      config: { auth: 'merchant', scope: 'processor_accounts' },
      schema: {
        tags,
        summary: 'Retrieve a processor account',
        params: ZParams,
        response: { 200: ZProcessorAccount },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const scope = { merchantId: principal.merchantId, livemode: principal.livemode };
      return present(await accounts.get(services.db, scope, request.params.id));
    },
  );

  app.patch(
    '/v1/processor-accounts/:id',
    {
      config: { auth: 'merchant', scope: 'processor_accounts' },
      schema: {
        tags,
        summary: 'Update a processor account',
        description:
          '`credentials` merge onto the stored ones (send only `webhook_secret` / `hmac_key` to set it once the ' +
          'processor shows it); lists are replaced whole; `currencies: null` = every currency; ' +
          '`status: DISABLED` stops routing new payments to it; `metadata` merges key by key.',
        params: ZParams,
        body: z.strictObject({
          credentials: ZCredentials.optional(),
          payment_methods: ZPaymentMethods.optional(),
          currencies: ZCurrencies.nullable().optional(),
          priority: z.number().int().min(-1000).max(1000).optional(),
          multiple_captures: ZMultipleCaptures.optional(),
          status: z.enum(PROCESSOR_ACCOUNT_STATUSES).optional(),
          metadata: zMetadataPatch.optional(),
        }),
        response: { 200: ZProcessorAccount },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const scope = { merchantId: principal.merchantId, livemode: principal.livemode };
      const body = request.body;
      const account = await services.db.transaction((tx) =>
        accounts.update(tx, scope, request.params.id, {
          credentials: body.credentials,
          paymentMethods: body.payment_methods,
          currencies: body.currencies,
          priority: body.priority,
          multipleCaptures: body.multiple_captures,
          status: body.status,
          metadata: body.metadata,
        }),
      );
      return present(account);
    },
  );

  app.delete(
    '/v1/processor-accounts/:id',
    {
      config: { auth: 'merchant', scope: 'processor_accounts' },
      schema: {
        tags,
        summary: 'Delete a processor account',
        description:
          'No new payment is routed to it; captures, voids, refunds and processor webhooks of the payments it ' +
          'already took keep reaching it.',
        params: ZParams,
        response: { 200: ZDeletedProcessorAccount },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const scope = { merchantId: principal.merchantId, livemode: principal.livemode };
      const { id } = request.params;
      await services.db.transaction((tx) => accounts.remove(tx, scope, id));
      return { id, object: 'processor_account' as const, deleted: true as const };
    },
  );
}
