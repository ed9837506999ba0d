import type {
  FastifyBaseLogger,
  FastifyInstance,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { ResourceScope } from '../modules/auth/scopes.ts';
import type { MerchantPrincipal } from '../modules/merchants/merchant.types.ts';

/** The Fastify instance with zod schemas as the type provider: route schemas type the handlers. */
export type KassaApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/**
 * Who may call a route: `public` (anyone), `merchant` (access token or secret API key), or
 * `merchant_or_client_token` (also the browser-safe token of one checkout session).
 */
export type RouteAuth = 'public' | 'merchant' | 'merchant_or_client_token';

/**
 * How a POST route is idempotent: `transactional` (the effect and the idempotency record commit in one
 * transaction), `pipeline` (a lease row spans a processor call), or `natural` (a POST without a stored
 * effect, e.g. issuing a token — documented per route).
 */
export type RouteIdempotency = 'transactional' | 'pipeline' | 'natural';

export type ClientTokenPrincipal = { checkoutId: string; merchantId: string; livemode: boolean };

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
    /**
     * The resource scope a merchant credential needs (GET/HEAD: `<scope>:read` or `<scope>`; other methods:
     * `<scope>`). Required on every route that is not `public`: the app refuses to start otherwise.
     */
    scope?: ResourceScope;
    idempotency?: RouteIdempotency;
  }
  interface FastifyRequest {
    merchant: MerchantPrincipal | undefined;
    clientToken: ClientTokenPrincipal | undefined;
    /** The dashboard person signed in on this request (set by the dashboard once its session is read). */
    dashboardUserId: string | undefined;
  }
}

/** The authenticated merchant of a `merchant` route; the auth hook guarantees it is set there. */
export function requireMerchant(request: { merchant: MerchantPrincipal | undefined }): MerchantPrincipal {
  if (!request.merchant)
    throw new Error('requireMerchant() called on a route without merchant authentication');
  return request.merchant;
}
