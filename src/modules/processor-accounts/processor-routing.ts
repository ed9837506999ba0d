import type { Connector, ConnectorNotifySink, PaymentMethodType } from '../../connectors/connector.ts';
import type { ProcessorModules } from '../../connectors/processor-modules.ts';
import type { Queryable } from '../../db/client.ts';
import type { EgressClient } from '../../egress/index.ts';
import { AppError, type FieldError } from '../../lib/errors.ts';
import { findProcessorAccountById, listRoutableProcessorAccounts } from './processor-account.repository.ts';

/** The accounts that may take a new payment, as a statement of the caller's load (`routeAmong`). */
export { loadRoutableProcessorAccounts } from './processor-account.repository.ts';
import type { ProcessorAccountService } from './processor-account.service.ts';
import type { MerchantScope, ProcessorAccount } from './processor-account.types.ts';

/**
 * Which connector takes a payment, and which one every later operation on it goes to.
 *
 * - A new payment goes to the first ENABLED, not deleted account of the checkout's mode that takes its method
 *   and currency, lowest `priority` first (then the oldest). The connector's id — the account's `pa_…` id —
 *   is stored on the payment.
 * - Test mode with no such account: the built-in sandbox, as before processor accounts existed.
 * - Live mode with no such account: `no_processor` (checkouts and payment links are refused up front, and
 *   methods no account takes are hidden from eligibility, so this is only reached in a race).
 * - A stored payment's connector (`get`) is found by id, deleted accounts included: captures, refunds and
 *   webhooks of payments an account took keep working after it is deleted.
 *
 * Connectors are built from the account's opened credentials and kept per (account, version): a PATCH or a
 * DELETE bumps the version, so the next call of any process builds a fresh one.
 */
export type ConnectorRouter = {
  get(id: string): Promise<Connector>;
  route(
    db: Queryable,
    scope: MerchantScope,
    payment: { method: PaymentMethodType; currency: string },
  ): Promise<Connector>;
  /** `route` among accounts already read (`loadRoutableProcessorAccounts`, in the caller's load). */
  routeAmong(
    accounts: readonly ProcessorAccount[],
    scope: MerchantScope,
    payment: { method: PaymentMethodType; currency: string },
  ): Connector;
  /** The methods some account takes in `currency`; null = every method (test mode falls back to the sandbox). */
  routableMethods(
    db: Queryable,
    scope: MerchantScope,
    currency: string,
  ): Promise<ReadonlySet<PaymentMethodType> | null>;
  /** `routableMethods` among accounts already read (`loadRoutableProcessorAccounts`). */
  routableMethodsAmong(
    accounts: readonly RoutingFacts[],
    scope: MerchantScope,
    currency: string,
  ): ReadonlySet<PaymentMethodType> | null;
  /** The processor account behind a connector id, or undefined for the built-in sandbox. */
  accountOf(id: string): Promise<ProcessorAccount | undefined>;
  /** The built-in sandbox's connector (test mode's default). */
  readonly sandbox: Connector;
};

export type ConnectorRouterDeps = {
  db: Queryable;
  sandbox: Connector;
  modules: ProcessorModules;
  accounts: Pick<ProcessorAccountService, 'openCredentials'>;
  egress: EgressClient;
  notify: ConnectorNotifySink;
  /** Wraps each connector built (metrics); identity by default. */
  wrap?: (connector: Connector) => Connector;
};

export function accountTakes(
  account: Pick<ProcessorAccount, 'paymentMethods' | 'currencies'>,
  method: PaymentMethodType,
  currency: string,
): boolean {
  return (
    account.paymentMethods.includes(method) &&
    (account.currencies === null || account.currencies.includes(currency.toUpperCase()))
  );
}

export function createConnectorRouter(deps: ConnectorRouterDeps): ConnectorRouter {
  const wrap = deps.wrap ?? ((connector: Connector) => connector);
  const built = new Map<string, { version: number; connector: Connector }>();

  function connectorOf(account: ProcessorAccount): Connector {
    const cached = built.get(account.id);
    if (cached && cached.version === account.version) return cached.connector;
    const module = deps.modules[account.processor];
    if (!module) {
      throw new AppError(
        'internal_error',
        `Processor account ${account.id} is a ${account.processor} account, which this gateway cannot reach`,
      );
    }
    const connector = wrap(
      module.createConnector(deps.accounts.openCredentials(account), {
        accountId: account.id,
        livemode: account.livemode,
        ...(account.apiBaseUrl ? { apiBaseUrl: account.apiBaseUrl } : {}),
        multipleCaptures: account.multipleCaptures,
        egress: deps.egress,
        notify: deps.notify,
      }),
    );
    built.set(account.id, { version: account.version, connector });
    return connector;
  }

  async function accountOf(id: string): Promise<ProcessorAccount | undefined> {
    if (id === deps.sandbox.id) return undefined;
    const account = await findProcessorAccountById(deps.db, id);
    if (!account) throw new AppError('internal_error', `No connector with id "${id}" is registered`);
    return account;
  }

  const routeAmong: ConnectorRouter['routeAmong'] = (accounts, scope, { method, currency }) => {
    const account = accounts.find((candidate) => accountTakes(candidate, method, currency));
    if (account) return connectorOf(account);
    if (!scope.livemode) return deps.sandbox;
    throw noProcessorError([{ method, currency }]);
  };

  return {
    sandbox: deps.sandbox,
    accountOf,

    async get(id) {
      const account = await accountOf(id);
      return account ? connectorOf(account) : deps.sandbox;
    },

    route: async (db, scope, payment) =>
      routeAmong(await listRoutableProcessorAccounts(db, scope), scope, payment),
    routeAmong,

    async routableMethods(db, scope, currency) {
      if (!scope.livemode) return null;
      return routableMethodsAmong(await listRoutableProcessorAccounts(db, scope), scope, currency);
    },
    routableMethodsAmong,
  };
}

/** What routing reads of an account: enough for a caller that read the accounts within its own statement. */
export type RoutingFacts = Pick<ProcessorAccount, 'processor' | 'paymentMethods' | 'currencies'>;

/**
 * Whether a saved card may be charged in `scope` and `currency`, among accounts already read (routable ones of the
 * scope, in routing order): only when cards go to the sandbox (built in, or a sandbox account). Saved cards are
 * sandbox-only until processors' own tokens are used (docs/processors.md).
 */
export function savedCardsChargeableAmong(
  accounts: readonly RoutingFacts[],
  scope: MerchantScope,
  currency: string,
): boolean {
  const account = accounts.find((candidate) => accountTakes(candidate, 'card', currency));
  return account ? account.processor === 'sandbox' : !scope.livemode;
}

export function routableMethodsAmong(
  accounts: readonly RoutingFacts[],
  scope: MerchantScope,
  currency: string,
): ReadonlySet<PaymentMethodType> | null {
  if (!scope.livemode) return null;
  const methods = new Set<PaymentMethodType>();
  for (const account of accounts)
    for (const method of account.paymentMethods)
      if (accountTakes(account, method, currency)) methods.add(method);
  return methods;
}

/** Live mode, and no enabled processor account takes these methods in these currencies. */
export function noProcessorError(
  missing: { method: PaymentMethodType; currency: string }[],
  otherErrors: FieldError[] = [],
): AppError {
  const described = missing.map(({ method, currency }) => `${method} in ${currency}`).join(', ');
  return new AppError(
    'no_processor',
    `No enabled live processor account takes ${described}; connect one with POST /v1/processor-accounts`,
    {
      errors: [
        ...otherErrors,
        ...missing.map(({ method, currency }) => ({
          pointer: '/payment_methods',
          code: 'no_processor' as const,
          message: `names ${method}, which no enabled live processor account takes in ${currency}`,
        })),
      ],
      extensions: { missing: missing.map(({ method, currency }) => ({ payment_method: method, currency })) },
    },
  );
}

/**
 * A saved card about to be charged through a real processor: refused before anything is sent (the card would go
 * to the processor as a stored credential it never saw verified).
 */
export function savedCardNotChargeableError(processor: string): AppError {
  return new AppError(
    'payment_method_not_available',
    `Saved cards are charged through the built-in sandbox only; this checkout's card payments go to a ${processor} processor account: pay with the card's details`,
    {
      errors: [
        {
          pointer: '/payment_method/saved_payment_method_id',
          code: 'saved_card_sandbox_only',
          message: `is a saved card, which cannot be charged through ${processor}`,
        },
      ],
    },
  );
}
