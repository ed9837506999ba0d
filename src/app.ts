import fastifyFormbody from '@fastify/formbody';
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pooledRandomHex } from './lib/random.ts';
import { transformDocument, transformRoute } from './http/openapi/document.ts';
import { registerApiVersioning } from './http/api-version.ts';
import type { KassaApp } from './http/http.types.ts';
import { createResponseSealer } from './http/idempotency.ts';
import { pipelineLeaseSeconds } from './http/idempotency-pipeline.ts';
import { loggerOptions } from './http/logging.ts';
import { DOCS_PAGE_HEADERS } from './http/pages/page-security.ts';
import { registerActorContext } from './http/plugins/actor-context.ts';
import { createCredentialUsageRecorder } from './modules/merchants/credential-usage.ts';
import { registerAuthentication } from './http/plugins/authentication.ts';
import { registerErrorHandling, sendFrameworkError } from './http/plugins/error-handler.ts';
import { registerCredentialLimits, registerLoadShedding } from './http/plugins/rate-limit.ts';
import { registerJsonBodyRule } from './http/plugins/json-body.ts';
import { registerRequestShapeLimits } from './http/plugins/request-shape.ts';
import { isAuthenticated } from './http/plugins/route-hooks.ts';
import { registerUnknownQueryRefusal } from './http/plugins/unknown-query.ts';
import { registerUnreadBodyDrain } from './http/plugins/unread-body.ts';
import { validatorCompiler } from './http/validation.ts';
import { registerSystemRoutes } from './http/routes/system.routes.ts';
import { registerLandingRoute } from './http/routes/landing.routes.ts';
import { registerCheckoutRoutes } from './http/routes/v1/checkouts.routes.ts';
import { registerAuditLogRoutes } from './http/routes/v1/audit-log.routes.ts';
import { registerEventRoutes } from './http/routes/v1/events.routes.ts';
import { registerEventStreamRoute } from './http/routes/v1/event-stream.routes.ts';
import { registerMerchantRoutes } from './http/routes/v1/merchant.routes.ts';
import { registerWebhookEndpointRoutes } from './http/routes/v1/webhook-endpoints.routes.ts';
import { registerProcessorAccountRoutes } from './http/routes/v1/processor-accounts.routes.ts';
import { registerProcessorWebhookRoutes } from './http/routes/processor-webhooks.routes.ts';
import { registerOrderRoutes } from './http/routes/v1/orders.routes.ts';
import { registerCheckoutOrderMetadataRoutes } from './http/routes/v1/checkout-order-metadata.routes.ts';
import { registerPaymentLinkRoutes } from './http/routes/v1/payment-links.routes.ts';
import { registerSdkRoutes } from './http/routes/sdk/sdk.routes.ts';
import { registerPaymentRoutes } from './http/routes/v1/payments.routes.ts';
import { registerMoneyOperationRoutes } from './http/routes/v1/money-operations.routes.ts';
import { registerPaymentMethodSettingsRoutes } from './http/routes/v1/payment-method-settings.routes.ts';
import { registerOAuthTokenRoute } from './http/routes/v1/oauth-tokens.route.ts';
import { registerApiKeyRoutes } from './http/routes/v1/api-keys.routes.ts';
import { registerHostedPageRoutes } from './http/routes/hosted-page.routes.ts';
import { registerCallbackProxyRoutes } from './http/routes/callback-proxy.routes.ts';
import { registerSandboxPageRoutes } from './http/routes/sandbox-pages.routes.ts';
import { registerCustomerPaymentMethodRoutes } from './http/routes/v1/customer-payment-methods.routes.ts';
import { registerCustomerRoutes } from './http/routes/v1/customers.routes.ts';
import { registerMerchantSigningSecretRoutes } from './http/routes/v1/merchant-signing-secret.routes.ts';
import { registerSandboxRoutes } from './http/routes/v1/sandbox.routes.ts';
import { registerStaticAssets } from './http/static-assets.ts';
import { registerDemoShopRoutes } from './demo-shop/demo-shop.routes.ts';
import { registerDashboardRoutes } from './dashboard/dashboard.routes.tsx';
import { createClientTokenVerifier } from './modules/checkouts/checkout.tokens.ts';
import { createRequestLogController, registerMetrics, registerTraceContext } from './metrics/index.ts';
import type { TrustProxy } from './config.ts';
import type { Services } from './services.ts';

export const API_VERSION = '0.1.0';
const BODY_LIMIT_BYTES = 1024 * 1024;
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** A hop count as proxy-addr's trust function (what Fastify does with a number, which its types omit). */
function fastifyTrustProxy(
  trust: TrustProxy,
): false | string[] | ((address: string, hop: number) => boolean) {
  return typeof trust === 'number' ? (_address, hop) => hop < trust : trust;
}

export type BuildAppOptions = {
  /** Where log lines go (tests capture them); defaults to stdout. `false` disables logging. */
  logStream?: NodeJS.WritableStream | false;
  logLevel?: string;
};

/**
 * Builds the HTTP application over ready services. Never listens: `main.ts` does, tests use `inject()` or
 * listen on an ephemeral loopback port themselves.
 */
export async function buildApp(services: Services, options: BuildAppOptions = {}): Promise<KassaApp> {
  const app = Fastify({
    logger:
      options.logStream === false
        ? false
        : loggerOptions({ level: options.logLevel ?? services.config.logLevel, stream: options.logStream }),
    bodyLimit: BODY_LIMIT_BYTES,
    requestIdHeader: 'x-request-id',
    genReqId: (request) => {
      const incoming = request.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID_PATTERN.test(incoming)
        ? incoming
        : `req_${pooledRandomHex(12)}`;
    },
    // Who may set the client address through X-Forwarded-For: KASSA_TRUST_PROXY (config.ts). Every
    // per-address limit reads request.ip, so a header from an untrusted peer must never move it.
    trustProxy: fastifyTrustProxy(services.config.trustProxy),
    // One line per request instead of two, with who made it (src/metrics/request-log.ts).
    logController: createRequestLogController(
      services.config.environment === 'development' ? 'debug' : 'info',
    ),
    routerOptions: { ignoreTrailingSlash: true },
    forceCloseConnections: false,
    return503OnClosing: true,
    // Bad percent-encoding and over-long path segments are refused by the router itself: problem documents too.
    frameworkErrors: sendFrameworkError,
  }).withTypeProvider<ZodTypeProvider>();

  app.decorate('idempotencyResponses', createResponseSealer(services.keyring));
  app.decorate('pipelineLeaseSeconds', pipelineLeaseSeconds(services.payments.attemptBoundMs));
  services.payments.logTo(app.log);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerTraceContext(app, services.tracer); // first: every later hook and handler runs in the request's trace
  // Then the actor (credential, shopper) every event and audit entry of the request names: src/lib/actor-context.ts.
  registerActorContext(app as unknown as KassaApp);
  registerErrorHandling(app);
  registerUnreadBodyDrain(app);
  registerMetrics(app, { metrics: services.metrics, token: services.config.metricsToken });
  registerJsonBodyRule(app as unknown as KassaApp); // before the shape limits: a form is refused as a form
  registerRequestShapeLimits(app);
  registerUnknownQueryRefusal(app as unknown as KassaApp);
  let authenticationRegistered = false;
  app.addHook('onRoute', (route) => {
    // Every POST must say how it is idempotent (docs/api-conventions.md): a route that forgets fails at start-up.
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (methods.includes('POST') && !route.config?.idempotency) {
      throw new Error(`POST ${route.url} does not declare config.idempotency`);
    }
    // Authentication is attached to each authenticated route as it is registered: one registered earlier
    // would have none, so it fails at start-up instead.
    if (isAuthenticated(route.config?.auth) && !authenticationRegistered)
      throw new Error(`${route.url} is registered before authentication`);
  });
  // HSTS (RFC 6797) on every response — pages, API, errors, static files — once Kassa is served over https:
  // a browser that has seen it never again sends a checkout page or a token over plain http. Over http the
  // header would be ignored (and wrong), so it depends on the public URL, not on the mode.
  const strictTransportSecurity = services.config.publicUrl.startsWith('https://')
    ? 'max-age=31536000; includeSubDomains'
    : undefined;
  // A callback hook, not an async one: it runs on every response, and an async hook costs a promise each time.
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', String(request.id));
    // Nothing is cached unless its route says so (public assets, the SDK, the JWKS): API answers carry
    // secrets (client tokens, signed page URLs, whsec_ / kss_ secrets, access tokens) and are per merchant.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    if (strictTransportSecurity) reply.header('strict-transport-security', strictTransportSecurity);
    done(null, payload);
  });

  await app.register(fastifyFormbody, { bodyLimit: BODY_LIMIT_BYTES });
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Kassa API',
        version: API_VERSION,
        description:
          'Self-hostable hosted-checkout payment gateway. Amounts are integers in minor units of the ISO 4217 ' +
          'currency. Every POST accepts an Idempotency-Key header. Errors are RFC 9457 problem documents.',
      },
      servers: [{ url: services.config.publicUrl }],
      components: {
        securitySchemes: {
          bearer: {
            type: 'http',
            scheme: 'bearer',
            description:
              'An access token from POST /v1/oauth/tokens, or an API key: secret sk_test_… / sk_live_… (every scope) or restricted rk_test_… / rk_live_… (its scopes)',
          },
        },
      },
    },
    // operationIds, Idempotency-Key, error responses, webhooks, schemas once: src/http/openapi/document.ts
    transform: transformRoute,
    transformObject: transformDocument,
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { url: '/openapi.json', validatorUrl: null } as never,
    // The same security headers as every page (docs/security.md); its static files keep their own caching.
    uiHooks: {
      onRequest: (_request, reply, done) => {
        reply.headers(DOCS_PAGE_HEADERS);
        done();
      },
    },
  });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  // Load shedding before authentication (which may wait for a database connection), the per-credential
  // limit after it (it counts against the credential authentication found): src/http/plugins/rate-limit.ts.
  // Authentication, the limit and the version pin are hooks of the authenticated routes themselves, so they
  // run after every app-wide hook (src/http/plugins/route-hooks.ts); public routes run none of them.
  const limitDeps = { pool: services.db.pool, limits: services.config.requestLimits };
  await registerLoadShedding(app as unknown as KassaApp, limitDeps);
  // `last_used_at` of keys and clients: noted per request, written in batches, the rest on close.
  const credentialUsage = createCredentialUsageRecorder({
    db: services.db,
    clock: services.clock,
    intervalMs: services.config.credentialUsageFlushSeconds * 1000,
    onError: (error) => app.log.warn({ err: error }, 'could not record when credentials were last used'),
  });
  app.addHook('onClose', async () => {
    await credentialUsage.stop().catch((error: unknown) => {
      app.log.warn({ err: error }, 'could not record when credentials were last used');
    });
  });
  const credentialCache = registerAuthentication(app, {
    db: services.db,
    clock: services.clock,
    accessTokens: services.accessTokens,
    verifyClientToken: createClientTokenVerifier(services.db),
    usage: credentialUsage,
  });
  // Then, on each authenticated route, in this order: the credential limit and the version pin.
  registerCredentialLimits(app as unknown as KassaApp, limitDeps);
  registerApiVersioning(app as unknown as KassaApp, { db: services.db });
  authenticationRegistered = true;
  registerSystemRoutes(app, services);
  registerLandingRoute(app, { demoShop: services.config.demoShop });
  registerOAuthTokenRoute(app, {
    db: services.db,
    clock: services.clock,
    accessTokens: services.accessTokens,
    throttle: services.authThrottle,
    usage: credentialUsage,
  });
  registerMerchantRoutes(app, services);
  registerApiKeyRoutes(app, services, credentialCache);
  // Feature routes:
  if (services.config.demoShop)
    registerDemoShopRoutes(app, { publicUrl: services.config.publicUrl, credentials: services.demoShop });
  registerCallbackProxyRoutes(app, services);
  registerPaymentLinkRoutes(app, services);
  registerSdkRoutes(app, services);
  registerStaticAssets(app);
  registerHostedPageRoutes(app, services);
  registerSandboxPageRoutes(app, services);
  registerSandboxRoutes(app, services);
  registerMerchantSigningSecretRoutes(app, services);
  registerCustomerRoutes(app, services);
  registerCustomerPaymentMethodRoutes(app, services);
  registerPaymentRoutes(app, services);
  registerMoneyOperationRoutes(app, services);
  registerWebhookEndpointRoutes(app, services);
  registerProcessorAccountRoutes(app, services);
  registerProcessorWebhookRoutes(app, services);
  registerEventRoutes(app, services);
  registerEventStreamRoute(app, services);
  registerAuditLogRoutes(app, services);
  registerCheckoutRoutes(app, services);
  registerOrderRoutes(app, services);
  registerCheckoutOrderMetadataRoutes(app, services);
  registerPaymentMethodSettingsRoutes(app, services);
  registerDashboardRoutes(app, services);

  return app as unknown as KassaApp;
}
