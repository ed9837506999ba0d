import { z } from 'zod';
import { notFoundError } from '../../../lib/errors.ts';
import { ALL_SCOPE_VALUES } from '../../../modules/auth/scopes.ts';
import {
  createApiKey,
  createOAuthClient,
  revokeApiKey,
  revokeOAuthClient,
  rollApiKey,
  rollOAuthClientSecret,
} from '../../../modules/merchants/api-key.service.ts';
import { presentApiKey, presentOAuthClient } from '../../../modules/merchants/credential.presenter.ts';
import {
  findApiKey,
  findOwnedApiClient,
  listApiClients,
  listApiKeys,
} from '../../../modules/merchants/credential.repository.ts';
import type { Queryable } from '../../../db/client.ts';
import type { Services } from '../../../services.ts';
import { requireMerchant, type KassaApp } from '../../http.types.ts';
import { idempotencyHeader, respondIdempotently } from '../../idempotency.ts';
import { rollOverlapSeconds, zRollBody } from './roll-body.ts';
import type { PageRequest } from '../../../db/pagination.ts';
import { toPage, toPageRequest, ZListQuery, ZPage } from '../../pagination.ts';

/**
 * Key management for the caller's merchant and mode (docs/security.md "API keys and OAuth clients"):
 * `/v1/api-keys` (secret `sk_…` and restricted `rk_…` keys) and `/v1/oauth-clients` (client id + secret).
 * A secret is in the answer to create and roll only, with `Cache-Control: no-store`; afterwards only its hint
 * (prefix … last 4) is shown. Revoked credentials answer 404 like unknown ones. Guarded by the `api_keys`
 * scope; what a credential may create is bounded by its own scopes (src/modules/merchants/api-key.service.ts).
 * Every change is audited and is an event (api-key.service.ts). `last_used_at` is recorded in batches
 * (src/modules/merchants/credential-usage.ts).
 */

const IDEMPOTENCY_HEADER = idempotencyHeader(
  'Makes the request safe to retry (kept 24 h): a retry answers the same, secret included',
);

const ZScopes = z.array(z.string().max(40)).max(ALL_SCOPE_VALUES.length);
const ZMetadata = z.record(z.string().max(40), z.string().max(500)).optional();

const ZApiKey = z
  .object({
    id: z.string(),
    object: z.literal('api_key'),
    livemode: z.boolean(),
    type: z.enum(['secret', 'restricted']),
    name: z.string().nullable(),
    scopes: z.array(z.string()).describe('What the key may do; a secret key holds every scope'),
    redacted_secret: z.string().describe('The key’s prefix and last 4 characters, e.g. rk_test_…a1b2'),
    status: z
      .enum(['ACTIVE', 'EXPIRED', 'REVOKED'])
      .describe('REVOKED only in the data of an `api_key.revoked` event: revoked keys are not listed'),
    expires_at: z.string().nullable().describe('Set when the key was rolled: it works until then'),
    last_used_at: z
      .string()
      .nullable()
      .describe('When a request last used the key (recorded every few seconds); null: not used yet'),
    metadata: z.record(z.string(), z.string()),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'ApiKey' });

const ZApiKeyWithSecret = ZApiKey.extend({
  secret: z.string().describe('The key itself (sk_… / rk_…). Shown only in this response; store it now.'),
}).meta({ id: 'ApiKeyWithSecret' });

const ZOAuthClient = z
  .object({
    id: z.string().describe('The client_id for POST /v1/oauth/tokens (cli_…)'),
    object: z.literal('oauth_client'),
    livemode: z.boolean(),
    name: z.string().nullable(),
    scopes: z.array(z.string()).describe('The scopes its tokens may carry'),
    redacted_secret: z
      .string()
      .nullable()
      .describe('The last 4 characters of the secret (null for clients made before)'),
    previous_secret_expires_at: z
      .string()
      .nullable()
      .describe('After a roll, the previous secret also works until then'),
    status: z
      .enum(['ACTIVE', 'REVOKED'])
      .describe(
        'REVOKED only in the data of an `oauth_client.revoked` event: revoked clients are not listed',
      ),
    last_used_at: z
      .string()
      .nullable()
      .describe(
        'When the client last got a token or a request used one of its tokens (recorded every few seconds)',
      ),
    metadata: z.record(z.string(), z.string()),
    version: z.number().int(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'OAuthClient' });

const ZOAuthClientWithSecret = ZOAuthClient.extend({
  secret: z.string().describe('The client_secret. Shown only in this response; store it now.'),
}).meta({ id: 'OAuthClientWithSecret' });

const ZDeleted = (object: 'api_key' | 'oauth_client') =>
  z.object({ id: z.string(), object: z.literal(object), deleted: z.literal(true) });

const ZParams = z.object({ id: z.string().max(100) });
const ZRollBody = zRollBody('working');

export function registerApiKeyRoutes(
  app: KassaApp,
  services: Pick<Services, 'db' | 'clock'>,
  credentials: { forget(): void },
) {
  const tags = ['API keys and OAuth clients'];
  const config = { auth: 'merchant', scope: 'api_keys' } as const;
  const now = () => services.clock.now();

  app.post(
    '/v1/api-keys',
    {
      config: { ...config, idempotency: 'transactional' },
      schema: {
        tags,
        summary: 'Create an API key: secret (every scope) or restricted (the scopes you choose)',
        description:
          'The answer carries the key in `secret`, the only time it is shown. A credential cannot create a key ' +
          'with scopes it does not hold (403 forbidden).',
        headers: IDEMPOTENCY_HEADER,
        body: z.strictObject({
          type: z.enum(['secret', 'restricted']),
          scopes: ZScopes.optional().describe('Restricted keys: e.g. ["checkouts", "orders:read"]'),
          name: z.string().max(100).nullable().optional(),
          metadata: ZMetadata,
        }),
        response: { 201: ZApiKeyWithSecret },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      reply.header('cache-control', 'no-store');
      return respondIdempotently(request, reply, services.db, 201, async (tx) => {
        const { key, secret } = await createApiKey(tx, principal, request.body);
        return { ...presentApiKey(key, now()), secret };
      });
    },
  );

  registerCredentialReads(app, services, {
    path: '/v1/api-keys',
    object: 'api_key',
    noun: 'API key',
    schema: ZApiKey,
    list: listApiKeys,
    find: findApiKey,
    present: presentApiKey,
  });

  app.post(
    '/v1/api-keys/:id/roll',
    {
      config: { ...config, idempotency: 'transactional' },
      schema: {
        tags,
        summary: 'Roll an API key: a new key with the same type and scopes; the old one works for an overlap',
        headers: IDEMPOTENCY_HEADER,
        params: ZParams,
        body: ZRollBody,
        response: { 200: ZApiKeyWithSecret },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      const overlap = rollOverlapSeconds(request.body);
      reply.header('cache-control', 'no-store');
      const answer = await respondIdempotently(request, reply, services.db, 200, async (tx) => {
        const { key, secret } = await rollApiKey(tx, principal, request.params.id, overlap, now());
        return { ...presentApiKey(key, now()), secret };
      });
      credentials.forget();
      return answer;
    },
  );

  app.delete(
    '/v1/api-keys/:id',
    {
      config,
      schema: {
        tags,
        summary: 'Revoke an API key now (every process refuses it within 1 second)',
        params: ZParams,
        response: { 200: ZDeleted('api_key') },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      await services.db.transaction((tx) => revokeApiKey(tx, principal, request.params.id, now()));
      credentials.forget();
      return { id: request.params.id, object: 'api_key' as const, deleted: true as const };
    },
  );

  app.post(
    '/v1/oauth-clients',
    {
      config: { ...config, idempotency: 'transactional' },
      schema: {
        tags,
        summary: 'Create an OAuth client (client id and secret for POST /v1/oauth/tokens)',
        description:
          'Its tokens may carry at most `scopes` (default: the scopes of the credential creating it). The answer ' +
          'carries the client secret in `secret`, the only time it is shown.',
        headers: IDEMPOTENCY_HEADER,
        // Every field is optional, so the body is too: a POST with none makes a client with the defaults.
        body: z
          .strictObject({
            scopes: ZScopes.optional(),
            name: z.string().max(100).nullable().optional(),
            metadata: ZMetadata,
          })
          .nullish(),
        response: { 201: ZOAuthClientWithSecret },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      reply.header('cache-control', 'no-store');
      return respondIdempotently(request, reply, services.db, 201, async (tx) => {
        const { client, secret } = await createOAuthClient(tx, principal, request.body ?? {});
        return { ...presentOAuthClient(client, now()), secret };
      });
    },
  );

  registerCredentialReads(app, services, {
    path: '/v1/oauth-clients',
    object: 'oauth_client',
    noun: 'OAuth client',
    schema: ZOAuthClient,
    list: listApiClients,
    find: findOwnedApiClient,
    present: presentOAuthClient,
  });

  app.post(
    '/v1/oauth-clients/:id/roll-secret',
    {
      config: { ...config, idempotency: 'transactional' },
      schema: {
        tags,
        summary: 'Roll an OAuth client’s secret; the previous secret works for an overlap',
        headers: IDEMPOTENCY_HEADER,
        params: ZParams,
        body: ZRollBody,
        response: { 200: ZOAuthClientWithSecret },
      },
    },
    async (request, reply) => {
      const principal = requireMerchant(request);
      const overlap = rollOverlapSeconds(request.body);
      reply.header('cache-control', 'no-store');
      return respondIdempotently(request, reply, services.db, 200, async (tx) => {
        const { client, secret } = await rollOAuthClientSecret(
          tx,
          principal,
          request.params.id,
          overlap,
          now(),
        );
        return { ...presentOAuthClient(client, now()), secret };
      });
    },
  );

  app.delete(
    '/v1/oauth-clients/:id',
    {
      config,
      schema: {
        tags,
        summary:
          'Revoke an OAuth client now: its secret and every token it was given stop working within 1 second',
        params: ZParams,
        response: { 200: ZDeleted('oauth_client') },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      await services.db.transaction((tx) => revokeOAuthClient(tx, principal, request.params.id, now()));
      credentials.forget();
      return { id: request.params.id, object: 'oauth_client' as const, deleted: true as const };
    },
  );
}

/**
 * The two reads every credential resource has, the same for API keys and OAuth clients: the list (not
 * revoked, newest first, the list envelope) and one by id (404 when unknown or revoked).
 */
type Owner = { merchantId: string; livemode: boolean };

function registerCredentialReads<Stored extends { id: string }, Shown extends { id: string }>(
  app: KassaApp,
  services: Pick<Services, 'db' | 'clock'>,
  resource: {
    path: string;
    object: 'api_key' | 'oauth_client';
    noun: string;
    schema: z.ZodType<Shown>;
    list(db: Queryable, owner: Owner, page: PageRequest): Promise<Stored[]>;
    find(db: Queryable, owner: Owner, id: string): Promise<Stored | undefined>;
    present(stored: Stored, now: Date): Shown;
  },
) {
  const tags = ['API keys and OAuth clients'];
  const config = { auth: 'merchant', scope: 'api_keys' } as const;
  app.get(
    resource.path,
    {
      config,
      schema: {
        tags,
        summary: `List ${resource.noun}s (not revoked), newest first`,
        querystring: ZListQuery.strict(),
        response: { 200: ZPage(resource.schema) },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const page = toPageRequest(request.query);
      const rows = await resource.list(services.db, principal, page);
      const at = services.clock.now();
      return toPage(
        rows,
        page,
        (stored) => resource.present(stored, at),
        (stored) => stored.id,
      );
    },
  );

  app.get(
    `${resource.path}/:id`,
    {
      config,
      schema: {
        tags,
        summary: `Retrieve an ${resource.noun}`,
        params: ZParams,
        response: { 200: resource.schema },
      },
    },
    async (request) => {
      const principal = requireMerchant(request);
      const stored = await resource.find(services.db, principal, request.params.id);
      if (!stored) throw notFoundError(resource.object, request.params.id);
      return resource.present(stored, services.clock.now());
    },
  );
}
