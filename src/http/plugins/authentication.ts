import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError } from '../../lib/errors.ts';
import { sha256 } from '../../lib/hashing.ts';
import { createTtlCache } from '../../lib/ttl-cache.ts';
import type { AccessTokenClaims, AccessTokenService } from '../../modules/auth/access-token.service.ts';
import { findApiKeyByDigest, findCredentialStatus } from '../../modules/merchants/credential.repository.ts';
import type { MerchantPrincipal } from '../../modules/merchants/merchant.types.ts';
import type { ClientTokenPrincipal, KassaApp } from '../http.types.ts';

/**
 * Resolves the caller of every route that is not `public`:
 * - `Bearer sk_test_…` / `sk_live_…`: a secret API key, looked up by its SHA-256 digest;
 * - `Bearer <JWT>`: an RFC 9068 access token from `/v1/oauth/tokens`;
 * - on `merchant_or_client_token` routes also a checkout's browser-safe `client_token`.
 *
 * Credential state is cached for CREDENTIAL_CACHE_TTL_MS: revoking a key or client takes effect everywhere
 * within that time, and valid traffic costs no database read per request.
 */

const CREDENTIAL_CACHE_TTL_MS = 30_000;
const API_KEY_PATTERN = /^sk_(test|live)_[A-Za-z0-9_-]{20,200}$/;

export type AuthenticationDeps = {
  db: Queryable;
  clock: Clock;
  accessTokens: AccessTokenService;
  verifyClientToken?: (token: string) => Promise<ClientTokenPrincipal | undefined>;
};

function bearerToken(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match) throw invalidToken('The Authorization header must be "Bearer <token>"');
  return match[1];
}

function invalidToken(detail: string): AppError {
  return new AppError('invalid_token', detail, {
    headers: {
      'www-authenticate': `Bearer realm="kassa", error="invalid_token", error_description="${detail.replace(/"/g, "'")}"`,
    },
  });
}

export function registerAuthentication(app: KassaApp, deps: AuthenticationDeps) {
  const apiKeys = createTtlCache<MerchantPrincipal | null>({
    ttlMs: CREDENTIAL_CACHE_TTL_MS,
    maxEntries: 10_000,
  });
  const clientStatus = createTtlCache<boolean>({ ttlMs: CREDENTIAL_CACHE_TTL_MS, maxEntries: 10_000 });

  async function principalFromApiKey(token: string): Promise<MerchantPrincipal | undefined> {
    const digest = sha256(token).toString('base64');
    let principal = apiKeys.get(digest);
    if (principal === undefined) {
      const stored = await findApiKeyByDigest(deps.db, sha256(token));
      principal =
        stored && !stored.revokedAt
          ? {
              merchantId: stored.merchantId,
              livemode: stored.livemode,
              credential: { kind: 'api_key', id: stored.id },
            }
          : null;
      apiKeys.set(digest, principal);
    }
    return principal ?? undefined;
  }

  async function isClientActive(clientId: string): Promise<boolean> {
    let active = clientStatus.get(clientId);
    if (active === undefined) {
      const stored = await findCredentialStatus(deps.db, clientId);
      active = Boolean(stored && !stored.revokedAt);
      clientStatus.set(clientId, active);
    }
    return active;
  }

  // A verified token is remembered until it expires (at most CREDENTIAL_CACHE_TTL_MS): its signature and
  // claims cannot change, and RSA verification is the largest cost of an authenticated request.
  const verifiedTokens = createTtlCache<AccessTokenClaims>({
    ttlMs: CREDENTIAL_CACHE_TTL_MS,
    maxEntries: 10_000,
  });

  async function verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    const cached = verifiedTokens.get(token);
    if (cached && cached.exp * 1000 > deps.clock.now().getTime()) return cached;
    const claims = await deps.accessTokens.verify(token).catch((error: unknown) => {
      throw error instanceof AppError ? invalidToken(error.message) : error;
    });
    verifiedTokens.set(token, claims);
    return claims;
  }

  async function principalFromAccessToken(token: string): Promise<MerchantPrincipal> {
    const claims = await verifyAccessToken(token);
    if (!(await isClientActive(claims.clientId)))
      throw invalidToken('The client of this token has been revoked');
    return {
      merchantId: claims.merchantId,
      livemode: claims.livemode,
      credential: { kind: 'access_token', id: claims.clientId },
    };
  }

  app.decorateRequest('merchant', undefined);
  app.decorateRequest('clientToken', undefined);

  app.addHook('onRequest', async (request) => {
    const mode = request.routeOptions.config.auth ?? 'public';
    if (mode === 'public') return;
    const token = bearerToken(request);
    if (!token) {
      throw new AppError(
        'authentication_required',
        'Send "Authorization: Bearer <access token or secret API key>"',
        {
          headers: { 'www-authenticate': 'Bearer realm="kassa"' },
        },
      );
    }
    if (token.startsWith('sk_')) {
      const principal = API_KEY_PATTERN.test(token) ? await principalFromApiKey(token) : undefined;
      if (!principal) {
        throw new AppError('invalid_api_key', 'The API key is not valid or has been revoked', {
          headers: { 'www-authenticate': 'Bearer realm="kassa", error="invalid_token"' },
        });
      }
      request.merchant = principal;
      return;
    }
    if (mode === 'merchant_or_client_token' && deps.verifyClientToken && token.startsWith('ct_')) {
      const principal = await deps.verifyClientToken(token);
      if (!principal) throw invalidToken('The client token is not valid for this checkout');
      request.clientToken = principal;
      return;
    }
    request.merchant = await principalFromAccessToken(token);
  });
}
