import type { FastifyRequest, RouteOptions } from 'fastify';
import type { Queryable } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError } from '../../lib/errors.ts';
import { sha256 } from '../../lib/hashing.ts';
import { createTtlCache } from '../../lib/ttl-cache.ts';
import type { AccessTokenClaims, AccessTokenService } from '../../modules/auth/access-token.service.ts';
import {
  FULL_ACCESS,
  accessOf,
  allows,
  isResourceScope,
  requiredScope,
  type ResourceScope,
} from '../../modules/auth/scopes.ts';
import { findApiKeyByDigest, findCredentialStatus } from '../../modules/merchants/credential.repository.ts';
import type { CredentialUsageRecorder } from '../../modules/merchants/credential-usage.ts';
import type { MerchantPrincipal } from '../../modules/merchants/merchant.types.ts';
import type { ClientTokenPrincipal, KassaApp, RouteAuth } from '../http.types.ts';
import { addRouteHook, isAuthenticated } from './route-hooks.ts';

/**
 * Resolves the caller of every route that is not `public`:
 * - `Bearer sk_test_…` / `sk_live_…` (secret, every scope) or `rk_test_…` / `rk_live_…` (restricted, the
 *   scopes chosen when it was made): an API key, looked up by its SHA-256 digest; a rolled key until its
 *   `expires_at`;
 * - `Bearer <JWT>`: an RFC 9068 access token from `/v1/oauth/tokens`;
 * - on `merchant_or_client_token` routes also a checkout's browser-safe `client_token`.
 *
 * and then checks that a merchant credential holds the route's `config.scope` (src/modules/auth/scopes.ts):
 * 403 `insufficient_scope` with the RFC 6750 §3.1 challenge otherwise. A client token needs no scope: it
 * opens only its own checkout's routes. Registering a non-public route without a scope, or a `/v1/` route
 * without `config.auth`, throws — the app does not start with an unguarded route.
 *
 * Credential state (an API key's row, whether a client is revoked) is cached for CREDENTIAL_CACHE_TTL_MS, 1 s:
 * revoking a key or client takes effect on every process sharing the database within that second (this
 * process forgets at once), and a credential in steady use costs one primary-key read per second per process.
 * Verified access-token claims are cached longer (VERIFIED_TOKEN_CACHE_TTL_MS): they cannot change, and the
 * revocation of their client is checked through the 1 s cache on every request.
 */

const CREDENTIAL_CACHE_TTL_MS = 1_000;
const VERIFIED_TOKEN_CACHE_TTL_MS = 30_000;
const API_KEY_PATTERN = /^(sk|rk)_(test|live)_[A-Za-z0-9_-]{20,200}$/;
const FULL_ACCESS_SET: ReadonlySet<string> = new Set(FULL_ACCESS);

export type AuthenticationDeps = {
  db: Queryable;
  clock: Clock;
  accessTokens: AccessTokenService;
  verifyClientToken?: (token: string) => Promise<ClientTokenPrincipal | undefined>;
  /** Notes each authenticated credential as used (`last_used_at`, written in batches). */
  usage?: Pick<CredentialUsageRecorder, 'record'>;
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

function insufficientScope(resource: ResourceScope, method: string): AppError {
  const scope = requiredScope(resource, accessOf(method));
  return new AppError(
    'insufficient_scope',
    `This route needs the scope "${scope}"${scope.endsWith(':read') ? ` (or "${resource}")` : ''}, which these credentials do not hold`,
    {
      extensions: { required_scope: scope },
      headers: {
        'www-authenticate': `Bearer realm="kassa", error="insufficient_scope", scope="${scope}"`,
      },
    },
  );
}

/**
 * Refuses, at registration, a route that would be reachable without the checks above: an API route with no
 * `config.auth` (which would default to public), or a non-public route with no valid `config.scope`. The
 * scope also goes into the route's OpenAPI operation as `security: [{bearer: [scope]}]`. Returns the route's
 * mode and scope when it is authenticated, `undefined` when it is public.
 */
function checkRouteDeclaration(
  route: RouteOptions,
): { mode: Exclude<RouteAuth, 'public'>; scope: ResourceScope } | undefined {
  const auth = route.config?.auth;
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const name = `${methods.join(',')} ${route.url}`;
  if (auth === undefined && route.url.startsWith('/v1/'))
    throw new Error(`${name} does not declare config.auth`);
  if (!isAuthenticated(auth)) return undefined;
  const scope = route.config?.scope;
  if (scope === undefined || !isResourceScope(scope))
    throw new Error(`${name} is authenticated but declares no valid config.scope`);
  if (route.schema && !route.schema.hide) {
    route.schema = {
      ...route.schema,
      security: [{ bearer: [requiredScope(scope, accessOf(methods[0]!))] }],
    };
  }
  return { mode: auth, scope };
}

type CachedApiKey = { principal: MerchantPrincipal; expiresAt: Date | null } | null;

/** Returned so routes that revoke or roll a credential can make this process forget it at once. */
export type CredentialCache = { forget(): void };

export function registerAuthentication(app: KassaApp, deps: AuthenticationDeps): CredentialCache {
  const apiKeys = createTtlCache<CachedApiKey>({
    ttlMs: CREDENTIAL_CACHE_TTL_MS,
    maxEntries: 10_000,
  });
  const clientStatus = createTtlCache<boolean>({ ttlMs: CREDENTIAL_CACHE_TTL_MS, maxEntries: 10_000 });

  function cachedApiKeyPrincipal(cached: CachedApiKey): MerchantPrincipal | undefined {
    if (!cached || (cached.expiresAt && cached.expiresAt <= deps.clock.now())) return undefined;
    return cached.principal;
  }

  async function loadApiKey(token: string, digest: string): Promise<MerchantPrincipal | undefined> {
    const stored = await findApiKeyByDigest(deps.db, sha256(token));
    const cached: CachedApiKey =
      stored && !stored.revokedAt
        ? {
            principal: {
              merchantId: stored.merchantId,
              livemode: stored.livemode,
              credential: { kind: 'api_key', id: stored.id },
              scopes: stored.scopes ? new Set(stored.scopes) : FULL_ACCESS_SET,
            },
            expiresAt: stored.expiresAt,
          }
        : null;
    apiKeys.set(digest, cached);
    return cachedApiKeyPrincipal(cached);
  }

  /** The key's principal: at once from the cache (most requests), else a promise of the database's answer. */
  function principalFromApiKey(
    token: string,
  ): MerchantPrincipal | undefined | Promise<MerchantPrincipal | undefined> {
    const digest = sha256(token).toString('base64');
    const cached = apiKeys.get(digest);
    return cached === undefined ? loadApiKey(token, digest) : cachedApiKeyPrincipal(cached);
  }

  async function loadClientStatus(clientId: string): Promise<boolean> {
    const stored = await findCredentialStatus(deps.db, clientId);
    const active = Boolean(stored && !stored.revokedAt);
    clientStatus.set(clientId, active);
    return active;
  }

  // A verified token is remembered until it expires (at most VERIFIED_TOKEN_CACHE_TTL_MS): its signature and
  // claims cannot change, and RSA verification is the largest cost of an authenticated request.
  const verifiedTokens = createTtlCache<AccessTokenClaims>({
    ttlMs: VERIFIED_TOKEN_CACHE_TTL_MS,
    maxEntries: 10_000,
  });

  async function verifyAccessToken(token: string): Promise<AccessTokenClaims> {
    const claims = await deps.accessTokens.verify(token).catch((error: unknown) => {
      throw error instanceof AppError ? invalidToken(error.message) : error;
    });
    verifiedTokens.set(token, claims);
    return claims;
  }

  function principalOfClaims(claims: AccessTokenClaims, active: boolean): MerchantPrincipal {
    if (!active) throw invalidToken('The client of this token has been revoked');
    return {
      merchantId: claims.merchantId,
      livemode: claims.livemode,
      credential: { kind: 'access_token', id: claims.clientId },
      scopes: new Set(claims.scopes),
    };
  }

  async function loadAccessTokenPrincipal(
    token: string,
    verified: AccessTokenClaims | undefined,
  ): Promise<MerchantPrincipal> {
    const claims = verified ?? (await verifyAccessToken(token));
    const active = clientStatus.get(claims.clientId) ?? (await loadClientStatus(claims.clientId));
    return principalOfClaims(claims, active);
  }

  /** The token's principal: at once when its claims and its client's status are cached, else a promise. */
  function principalFromAccessToken(token: string): MerchantPrincipal | Promise<MerchantPrincipal> {
    const cached = verifiedTokens.get(token);
    const verified = cached && cached.exp * 1000 > deps.clock.now().getTime() ? cached : undefined;
    const active = verified && clientStatus.get(verified.clientId);
    return active === undefined
      ? loadAccessTokenPrincipal(token, verified)
      : principalOfClaims(verified!, active);
  }

  function acceptMerchant(request: FastifyRequest, principal: MerchantPrincipal, scope: ResourceScope): void {
    request.merchant = principal;
    deps.usage?.record(principal.credential.id);
    if (!allows(principal.scopes, scope, accessOf(request.method)))
      throw insufficientScope(scope, request.method);
  }

  function acceptApiKey(
    request: FastifyRequest,
    principal: MerchantPrincipal | undefined,
    scope: ResourceScope,
  ) {
    if (!principal) {
      throw new AppError('invalid_api_key', 'The API key is not valid, has expired or has been revoked', {
        headers: { 'www-authenticate': 'Bearer realm="kassa", error="invalid_token"' },
      });
    }
    acceptMerchant(request, principal, scope);
  }

  /**
   * Authenticates a request to a route of `mode` that needs `scope`: returns once done when every answer it
   * needs is cached (most requests), a promise otherwise; throws (or rejects) the refusal.
   */
  function authenticate(
    request: FastifyRequest,
    mode: Exclude<RouteAuth, 'public'>,
    scope: ResourceScope,
  ): Promise<void> | undefined {
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
    if (token.startsWith('sk_') || token.startsWith('rk_')) {
      const principal = API_KEY_PATTERN.test(token) ? principalFromApiKey(token) : undefined;
      if (principal instanceof Promise) return principal.then((found) => acceptApiKey(request, found, scope));
      acceptApiKey(request, principal, scope);
      return undefined;
    }
    if (mode === 'merchant_or_client_token' && deps.verifyClientToken && token.startsWith('ct_')) {
      return deps.verifyClientToken(token).then((principal) => {
        if (!principal) throw invalidToken('The client token is not valid for this checkout');
        request.clientToken = principal;
      });
    }
    const principal = principalFromAccessToken(token);
    if (principal instanceof Promise) return principal.then((found) => acceptMerchant(request, found, scope));
    acceptMerchant(request, principal, scope);
    return undefined;
  }

  app.decorateRequest('merchant', undefined);
  app.decorateRequest('clientToken', undefined);
  app.decorateRequest('dashboardUserId', undefined);

  // Attached to each authenticated route only (src/http/plugins/route-hooks.ts): a public route — the hosted
  // page, the SDK's files, health checks — runs no authentication hook at all. A callback hook: a request
  // whose credential is cached is authenticated without a promise.
  app.addHook('onRoute', (route) => {
    const declared = checkRouteDeclaration(route);
    if (!declared) return;
    const { mode, scope } = declared;
    addRouteHook(
      route,
      'onRequest',
      (request: FastifyRequest, _reply: unknown, done: (error?: Error) => void) => {
        let pending: Promise<void> | undefined;
        try {
          pending = authenticate(request, mode, scope);
        } catch (error) {
          return done(error as Error);
        }
        if (pending) pending.then(() => done(), done);
        else done();
      },
    );
  });

  return {
    forget() {
      apiKeys.clear();
      clientStatus.clear();
    },
  };
}
