import type { FastifyRequest } from 'fastify';
import type { Queryable } from '../db/client.ts';
import { AppError } from '../lib/errors.ts';
import type { KassaApp } from './http.types.ts';
import { addAuthenticatedRouteHook, isAuthenticated } from './plugins/route-hooks.ts';
import { API_VERSIONS, LATEST_API_VERSION, isApiVersion, type ApiVersion } from '../lib/api-versions.ts';

export { API_VERSIONS, LATEST_API_VERSION, isApiVersion, type ApiVersion } from '../lib/api-versions.ts';
export const API_VERSION_HEADER = 'kassa-version';

declare module 'fastify' {
  interface FastifyRequest {
    /** The version this request is answered in: its Kassa-Version, else the merchant's, else the newest. */
    apiVersion: ApiVersion | undefined;
  }
}

function requestedVersion(request: FastifyRequest): ApiVersion | undefined {
  const header = request.headers[API_VERSION_HEADER];
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header[0] : header;
  if (isApiVersion(value)) return value;
  throw new AppError(
    'invalid_api_version',
    `Kassa-Version ${JSON.stringify(value)} is not a version of this API; known versions: ${API_VERSIONS.join(', ')}`,
    { extensions: { known_versions: [...API_VERSIONS] } },
  );
}

/**
 * Pins a merchant to `version` unless it is pinned already, and returns the version it is pinned to. One
 * statement: two first requests racing each other agree on whichever committed first.
 */
export async function pinMerchantApiVersion(
  db: Queryable,
  merchantId: string,
  version: ApiVersion,
): Promise<ApiVersion> {
  const { rows } = await db.query<{ api_version: string }>(
    `UPDATE merchants SET api_version = COALESCE(api_version, $2) WHERE id = $1 RETURNING api_version`,
    [merchantId, version],
  );
  const pinned = rows[0]?.api_version;
  return isApiVersion(pinned) ? pinned : LATEST_API_VERSION;
}

/**
 * Reads `Kassa-Version` (an unknown one is a 400 `invalid_api_version`), pins a merchant on its first
 * authenticated request, and sends the version on every response. On an authenticated route this runs after
 * authentication and the credential limit (a hook attached to the route, src/http/plugins/route-hooks.ts), so
 * `request.merchant` is known; on every other request (public routes, unknown paths) an app-wide hook that
 * returns at once does it. Pins are cached per process: a pin never changes by itself. Callback hooks: a
 * request whose version is known without the database costs no promise.
 */
export function registerApiVersioning(app: KassaApp, deps: { db: Queryable }) {
  const pinned = new Map<string, ApiVersion>();

  async function pin(request: FastifyRequest, merchantId: string, requested: ApiVersion | undefined) {
    const merchantVersion = await pinMerchantApiVersion(deps.db, merchantId, requested ?? LATEST_API_VERSION);
    if (pinned.size >= 10_000) pinned.clear();
    pinned.set(merchantId, merchantVersion);
    request.apiVersion = requested ?? merchantVersion;
  }

  function versionOfAuthenticated(request: FastifyRequest, _reply: unknown, done: (error?: Error) => void) {
    let requested: ApiVersion | undefined;
    try {
      requested = requestedVersion(request);
    } catch (error) {
      return done(error as Error);
    }
    const merchant = request.merchant;
    if (!merchant) {
      request.apiVersion = requested ?? LATEST_API_VERSION;
      return done();
    }
    const merchantVersion = pinned.get(merchant.merchantId);
    if (merchantVersion !== undefined) {
      request.apiVersion = requested ?? merchantVersion;
      return done();
    }
    pin(request, merchant.merchantId, requested).then(() => done(), done);
  }

  app.decorateRequest('apiVersion', undefined);
  addAuthenticatedRouteHook(app, 'onRequest', versionOfAuthenticated);
  app.addHook('onRequest', (request, _reply, done) => {
    if (isAuthenticated(request.routeOptions.config.auth)) return done(); // its own hook does it, once it is authenticated
    try {
      request.apiVersion = requestedVersion(request) ?? LATEST_API_VERSION;
    } catch (error) {
      return done(error as Error);
    }
    done();
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header(API_VERSION_HEADER, request.apiVersion ?? LATEST_API_VERSION);
    done(null, payload);
  });
}
