import type { Config } from './config.ts';
import type { Database } from './db/client.ts';
import { systemClock, type Clock } from './lib/clock.ts';
import type { Keyring } from './lib/keyring.ts';
import { createAccessTokenService, type AccessTokenService } from './modules/auth/access-token.service.ts';
import { createAuthThrottle, type AuthThrottle } from './modules/auth/auth-throttle.ts';
import { createSigningKeyStore, type SigningKeyStore } from './modules/auth/signing-keys.ts';
import {
  compileEgressPolicy,
  createEgressClient,
  type CompiledEgressPolicy,
  type EgressClient,
} from './egress/index.ts';
import {
  createWebhookEndpointService,
  type WebhookEndpointService,
} from './modules/webhooks/webhook-endpoint.service.ts';
import { createOutboxSignal, type OutboxSignal } from './outbox/outbox-signal.ts';
import { createProcessorModules, type ProcessorModules } from './connectors/processor-modules.ts';
import {
  createProcessorAccountService,
  type ProcessorAccountService,
} from './modules/processor-accounts/processor-account.service.ts';
import {
  createConnectorRouter,
  type ConnectorRouter,
} from './modules/processor-accounts/processor-routing.ts';
import { createSandboxConnector, type SandboxConnector } from './connectors/sandbox/sandbox.connector.ts';
import { checkoutServiceDeps } from './modules/checkouts/checkout.service.ts';
import { createPaymentFlow, type PaymentFlow } from './modules/payments/payment-flow.service.ts';
import { createCallbackService, type CallbackService } from './modules/callbacks/callback.service.ts';
import { createMerchantCache, type MerchantCache } from './modules/merchants/merchant-cache.ts';
import {
  createPaymentMethodSettingsCache,
  type PaymentMethodSettingsCache,
} from './modules/payment-methods/payment-method-settings.cache.ts';
import { createDemoShopCredentials, type DemoShopCredentials } from './demo-shop/credentials.ts';
import {
  createMetrics,
  createTracer,
  instrumentConnector,
  observeDatabase,
  type Metrics,
  type Tracer,
} from './metrics/index.ts';
import { createAttemptLimiter } from './modules/payments/attempt-limits.ts';

/**
 * The composition root: builds every service from configuration, a database and a keyring. `main.ts` and
 * the tests both call it, so tests run the same wiring as production with their own database and clock.
 */
export type Services = {
  config: Config;
  db: Database;
  clock: Clock;
  keyring: Keyring;
  signingKeys: SigningKeyStore;
  accessTokens: AccessTokenService;
  authThrottle: AuthThrottle;
  /** Which outbound destinations are allowed: 'production' refuses loopback unless allow-listed. */
  egressPolicy: CompiledEgressPolicy;
  /** The one outbound HTTP client (webhooks, callbacks, proxied resources). */
  egress: EgressClient;
  /** Ring after committing events or deliveries so this process's outbox worker looks at once. */
  outbox: OutboxSignal;
  webhookEndpoints: WebhookEndpointService;
  /** The simulated acquirer behind the same interface as a real processor (test mode only). */
  sandbox: SandboxConnector;
  /** Which processors a merchant can connect (src/connectors/processor-modules.ts). */
  processorModules: ProcessorModules;
  /** Merchants' processor accounts: create, update, delete, credentials sealed. */
  processorAccounts: ProcessorAccountService;
  /** A payment's connector: routed by processor account, or the sandbox in test mode. */
  connectors: ConnectorRouter;
  payments: PaymentFlow;
  /** Merchant callbacks (ok / fail / open / notification / verify_order) and the proxy of their pages' resources. */
  callbacks: CallbackService;
  /** Merchant rows for hot paths (checkout defaults), kept ≤ 1 s; `PATCH /v1/merchant` forgets its own. */
  merchants: MerchantCache;
  /** Payment-method settings for hot paths (pages, payments), kept ≤ 1 s; their PUT forgets its own. */
  paymentMethodSettings: PaymentMethodSettingsCache;
  /** The API key of the demo shop at `/demo` (config.demoShop); main.ts and tests provide it. */
  demoShop: DemoShopCredentials;
  /** This process's Prometheus metrics (src/metrics/); served per config.metricsToken / metricsPort. */
  metrics: Metrics;
  /** OpenTelemetry span export (config.tracing); undefined when off. Shut down when the app closes. */
  tracer: Tracer | undefined;
};

export async function createServices(input: {
  config: Config;
  db: Database;
  keyring: Keyring;
  clock?: Clock;
  /** Tests may pass their own; by default a fresh registry (never a module-level one). */
  metrics?: Metrics;
  /** Tests add a test double of an external processor here; by default the modules this build has. */
  processorModules?: (defaults: ProcessorModules) => ProcessorModules;
}): Promise<Services> {
  const { config, db, keyring } = input;
  const clock = input.clock ?? systemClock;
  const metrics = input.metrics ?? createMetrics();
  observeDatabase(metrics, db);
  const signingKeys = createSigningKeyStore({
    db,
    keyring,
    clock,
    tokenTtlSeconds: config.accessTokenTtlSeconds,
    configuredPrivateKeyPem: config.jwtPrivateKeyPem,
  });
  await signingKeys.initialise();
  const egressPolicy = compileEgressPolicy({
    mode: config.environment === 'production' ? 'production' : 'development',
    allowList: config.egressAllowList,
  });
  const accessTokens = createAccessTokenService({
    keys: signingKeys,
    clock,
    issuer: config.publicUrl,
    audience: `${config.publicUrl}/v1`,
    ttlSeconds: config.accessTokenTtlSeconds,
  });
  // The sandbox notifies the payment flow, which needs the registry holding the sandbox: the sink closes
  // over a reference filled just below (no notification can arrive before a payment exists).
  // Every commit that wrote events rings the outbox worker (db/unit-of-work.ts), whichever route made it.
  const outbox = createOutboxSignal();
  db.onEventsCommitted(outbox.notify);
  const flow: { current?: PaymentFlow } = {};
  const merchants = createMerchantCache();
  const paymentMethodSettings = createPaymentMethodSettingsCache({ clock });
  const sandbox = createSandboxConnector({
    // Its statements go through Kassa's handle (prepared once per connection, like every other statement);
    // its own transactions check out a pool client.
    db: { query: db.query, connect: () => db.pool.connect() },
    publicBaseUrl: config.publicUrl,
    clock,
    notify: (update) => flow.current!.applyStatusUpdate(update),
    faults: config.sandboxFaults,
  });
  const defaultModules = createProcessorModules({ sandbox });
  const processorModules = input.processorModules?.(defaultModules) ?? defaultModules;
  const processorAccounts = createProcessorAccountService({
    keyring,
    clock,
    modules: processorModules,
    environment: config.environment,
    publicUrl: config.publicUrl,
  });
  // Processor calls are timed and counted here, around the connector, not inside the payment pipelines.
  // They leave through the egress module (its policy, timeouts and response cap), like every outbound call.
  const connectors = createConnectorRouter({
    db,
    sandbox: instrumentConnector(sandbox, metrics),
    modules: processorModules,
    accounts: processorAccounts,
    egress: createEgressClient({
      policy: egressPolicy,
      responseTimeoutMs: config.processorTimeoutMs,
      maxResponseBytes: 1024 * 1024,
      userAgent: 'Kassa/0.1 (+processors)',
      purpose: 'processor',
    }),
    notify: (update) => flow.current!.applyStatusUpdate(update),
    wrap: (connector) => instrumentConnector(connector, metrics),
  });
  // Callbacks leave through the egress module like webhooks, with their own timeouts (the callbacks flow: 7 s to
  // connect, 28 s to answer; shorter in tests) and room for a whole HTML page.
  const callbacks = createCallbackService({
    db,
    egress: createEgressClient({
      policy: egressPolicy,
      connectTimeoutMs: config.callbackConnectTimeoutMs,
      responseTimeoutMs: config.callbackResponseTimeoutMs,
      maxResponseBytes: 1024 * 1024,
      userAgent: 'Kassa/0.1 (+callbacks)',
      purpose: 'callback',
    }),
    keyring,
    clock,
    retrySchedule: config.webhookRetryScheduleSeconds,
    attemptTimeoutMs: config.callbackResponseTimeoutMs,
    metrics,
    disclosure: { policy: egressPolicy, publicUrl: config.publicUrl },
  });
  const payments = (flow.current = createPaymentFlow({
    db,
    clock,
    keyring,
    connectors,
    checkoutDeps: checkoutServiceDeps({ clock, keyring, config, merchants }),
    paymentMethodSettings,
    verifyOrder: callbacks.verifyOrder,
    attemptLimits: createAttemptLimiter(db, config.attemptLimits),
    // A verify_order call ends within its connect and response timeouts; 5 s more for the rest of the exchange.
    orderVerificationTimeoutMs: config.callbackConnectTimeoutMs + config.callbackResponseTimeoutMs + 5_000,
    processorCallTimeoutMs: config.processorTimeoutMs,
    processingRecoveryMs: config.paymentRecoveryMs,
  }));
  // What the recovery worker settled, counted by kind from the counts `recover()` returns.
  const recover = payments.recover;
  payments.recover = async () => {
    const settled = await recover();
    for (const [action, count] of Object.entries(settled))
      if (count > 0) metrics.recoveryActions.inc({ action }, count);
    return settled;
  };
  return {
    config,
    db,
    clock,
    keyring,
    signingKeys,
    accessTokens,
    authThrottle: createAuthThrottle(db.pool),
    sandbox,
    processorModules,
    processorAccounts,
    connectors,
    payments,
    callbacks,
    egressPolicy,
    egress: createEgressClient({ policy: egressPolicy, purpose: 'webhook' }),
    outbox,
    webhookEndpoints: createWebhookEndpointService({ keyring, egressPolicy }),
    merchants,
    paymentMethodSettings,
    demoShop: createDemoShopCredentials(),
    metrics,
    tracer: await createTracer(config.tracing),
  };
}
