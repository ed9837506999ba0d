/**
 * @kassa/node: a typed client for the Kassa API (README.md). Types come from the gateway's /openapi.json
 * (`npm run client:generate`).
 */
export {
  createKassa,
  type Kassa,
  type KassaOptions,
  type ItemOf,
  type ListPath,
  type ResponseOf,
} from './client.ts';
export {
  KassaApiError,
  KassaConnectionError,
  KassaError,
  KassaWebhookError,
  type Problem,
} from './errors.ts';
export { verifyWebhook, type WebhookEvent, type WebhookEventType, type WebhookHeaders } from './webhooks.ts';
export type { components, operations, paths, webhooks } from './openapi.ts';
