import { createKassa, KassaApiError, KassaError, type components, type Kassa } from '@kassa/node';

/**
 * How the demo shop talks to Kassa: the typed client of this repository (`@kassa/node`, packages/node) over
 * the network with the shop's secret API key — exactly what a separate merchant server does. Nothing here
 * imports Kassa's services or database: if the shop works, the public API (and the client) do.
 */

export type ApiOrder = components['schemas']['Order'];
export { KassaApiError, KassaError, type Kassa };

/**
 * A shopper waits on each call: one retry (where the client deems it safe) and 15 s per attempt, not the
 * client's defaults for a background job. The checkouts and links are created with the shop's own
 * Idempotency-Key (pay.routes.ts), so a retried or reloaded POST makes them once.
 */
export function createShopKassaClient(options: { baseUrl: string; apiKey: string }): Kassa {
  return createKassa({
    apiKey: options.apiKey,
    baseUrl: options.baseUrl,
    maxRetries: 1,
    retryDelayMs: 250,
    timeoutMs: 15_000,
  });
}

/** The problem code of a failed call: Kassa's `code`, or `unreachable` when no answer came. */
export function apiErrorCode(error: KassaError): string {
  return error instanceof KassaApiError ? error.code : 'unreachable';
}

/** Whether Kassa answered 404 (the object is not this merchant's, or does not exist). */
export function isNotFound(error: unknown): boolean {
  return error instanceof KassaApiError && error.status === 404;
}
