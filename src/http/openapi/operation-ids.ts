/**
 * The `operationId` of every documented operation, keyed by `"METHOD /path"` as `/openapi.json` spells the path
 * (`{id}`, not `:id`). Client generators name their methods after these, so an id never changes once shipped
 * (docs/api-conventions.md §13: renaming one is a breaking change).
 *
 * A new route adds its line here; `test/e2e/http/openapi-document.test.ts` fails for a documented operation
 * without one, and for an id used twice. Style: lowerCamelCase, verb first (`list…`, `get…`, `create…`,
 * `update…`, `delete…`, or the action's own verb), the object in the singular except for lists.
 */
export const OPERATION_IDS: Readonly<Record<string, string>> = {
  // System
  'GET /healthz': 'getHealth',
  'GET /readyz': 'getReadiness',
  'GET /.well-known/jwks.json': 'getJwks',
  'POST /v1/oauth/tokens': 'createAccessToken',
  // Merchant
  'GET /v1/merchant': 'getMerchant',
  'PATCH /v1/merchant': 'updateMerchant',
  'GET /v1/merchant/signing-secret': 'getSigningSecret',
  'POST /v1/merchant/signing-secret/roll': 'rollSigningSecret',
  'GET /v1/payment-method-settings': 'listPaymentMethodSettings',
  'PATCH /v1/payment-method-settings/{method}': 'updatePaymentMethodSetting',
  'PUT /v1/payment-method-settings/{method}': 'replacePaymentMethodSetting',
  // API keys and OAuth clients
  'POST /v1/api-keys': 'createApiKey',
  'GET /v1/api-keys': 'listApiKeys',
  'GET /v1/api-keys/{id}': 'getApiKey',
  'DELETE /v1/api-keys/{id}': 'revokeApiKey',
  'POST /v1/api-keys/{id}/roll': 'rollApiKey',
  'POST /v1/oauth-clients': 'createOAuthClient',
  'GET /v1/oauth-clients': 'listOAuthClients',
  'GET /v1/oauth-clients/{id}': 'getOAuthClient',
  'DELETE /v1/oauth-clients/{id}': 'revokeOAuthClient',
  'POST /v1/oauth-clients/{id}/roll-secret': 'rollOAuthClientSecret',
  // Processor accounts
  'POST /v1/processor-accounts': 'createProcessorAccount',
  'GET /v1/processor-accounts': 'listProcessorAccounts',
  'GET /v1/processor-accounts/{id}': 'getProcessorAccount',
  'PATCH /v1/processor-accounts/{id}': 'updateProcessorAccount',
  'DELETE /v1/processor-accounts/{id}': 'deleteProcessorAccount',
  // Audit trail
  'GET /v1/audit-log': 'listAuditLogEntries',
  // Checkouts
  'POST /v1/checkouts': 'createCheckout',
  'GET /v1/checkouts': 'listCheckouts',
  'GET /v1/checkouts/{id}': 'getCheckout',
  'PUT /v1/checkouts/{id}': 'replaceCheckoutOrder',
  'PATCH /v1/checkouts/{id}': 'updateCheckout',
  'POST /v1/checkouts/{id}/expire': 'expireCheckout',
  'GET /v1/checkouts/{id}/payment-methods': 'listCheckoutPaymentMethods',
  'GET /v1/checkouts/{id}/session': 'getCheckoutSession',
  // Orders
  'GET /v1/orders': 'listOrders',
  'GET /v1/orders/{id}': 'getOrder',
  'PATCH /v1/orders/{id}': 'updateOrder',
  'GET /v1/orders/{id}/payments': 'listOrderPayments',
  'GET /v1/orders/{id}/timeline': 'getOrderTimeline',
  // Payments, captures, refunds
  'POST /v1/payments': 'createPayment',
  'GET /v1/payments/{id}': 'getPayment',
  'PATCH /v1/payments/{id}': 'updatePayment',
  'POST /v1/payments/{id}/capture': 'capturePayment',
  'GET /v1/payments/{id}/captures': 'listPaymentCaptures',
  'POST /v1/payments/{id}/cancel': 'cancelPayment',
  'POST /v1/payments/{id}/refunds': 'createRefund',
  'GET /v1/payments/{id}/refunds': 'listPaymentRefunds',
  'GET /v1/captures': 'listCaptures',
  'GET /v1/captures/{id}': 'getCapture',
  'PATCH /v1/captures/{id}': 'updateCapture',
  'GET /v1/refunds': 'listRefunds',
  'GET /v1/refunds/{id}': 'getRefund',
  'PATCH /v1/refunds/{id}': 'updateRefund',
  'POST /v1/sandbox/payments/{id}/resolve': 'resolveSandboxPayment',
  // Payment links
  'POST /v1/payment-links': 'createPaymentLink',
  'GET /v1/payment-links': 'listPaymentLinks',
  'GET /v1/payment-links/{id}': 'getPaymentLink',
  'PATCH /v1/payment-links/{id}': 'updatePaymentLink',
  'POST /v1/payment-links/{id}/deactivate': 'deactivatePaymentLink',
  // Customers
  'POST /v1/customers': 'createCustomer',
  'GET /v1/customers': 'listCustomers',
  'GET /v1/customers/{id}': 'getCustomer',
  'PATCH /v1/customers/{id}': 'updateCustomer',
  'DELETE /v1/customers/{id}': 'deleteCustomer',
  'GET /v1/customers/{id}/payment-methods': 'listCustomerPaymentMethods',
  'DELETE /v1/customers/{id}/payment-methods/{pm_id}': 'deleteCustomerPaymentMethod',
  // Webhook endpoints and events
  'POST /v1/webhook-endpoints': 'createWebhookEndpoint',
  'GET /v1/webhook-endpoints': 'listWebhookEndpoints',
  'GET /v1/webhook-endpoints/{id}': 'getWebhookEndpoint',
  'PATCH /v1/webhook-endpoints/{id}': 'updateWebhookEndpoint',
  'DELETE /v1/webhook-endpoints/{id}': 'deleteWebhookEndpoint',
  'POST /v1/webhook-endpoints/{id}/roll-secret': 'rollWebhookEndpointSecret',
  'POST /v1/webhook-endpoints/{id}/rotate-secret': 'rotateWebhookEndpointSecret',
  'POST /v1/webhook-endpoints/{id}/test': 'testWebhookEndpoint',
  'GET /v1/events': 'listEvents',
  'GET /v1/events/stream': 'streamEvents',
  'GET /v1/events/{id}': 'getEvent',
  'GET /v1/events/{id}/deliveries': 'listEventDeliveries',
  'POST /v1/events/{id}/redeliver': 'redeliverEvent',
};

/** `/v1/checkouts/:id` (Fastify) → `/v1/checkouts/{id}` (OpenAPI). */
export function openApiPath(routeUrl: string): string {
  return routeUrl.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, '{$1}');
}

export function operationKey(method: string, routeUrl: string): string {
  return `${method.toUpperCase()} ${openApiPath(routeUrl)}`;
}
