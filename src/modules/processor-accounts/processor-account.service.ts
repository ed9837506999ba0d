import type { PageRequest } from '../../db/pagination.ts';
import { PAYMENT_METHOD_TYPES, type PaymentMethodType } from '../../connectors/connector.ts';
import type { AnyProcessorModule, ProcessorModules } from '../../connectors/processor-modules.ts';
import type { ProcessorName } from '../../connectors/processor.ts';
import type { Queryable, UnitOfWork } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import { AppError, notFoundError, validationError, type FieldError } from '../../lib/errors.ts';
import { newId } from '../../lib/ids.ts';
import type { Keyring } from '../../lib/keyring.ts';
import {
  checkApiBaseUrl,
  checkCredentials,
  checkCurrencies,
  checkMultipleCaptures,
} from './processor-account.checks.ts';
import {
  mergeMetadata,
  metadataKeyCountError,
  type Metadata,
  type MetadataPatch,
} from '../../lib/metadata.ts';
import {
  countProcessorAccounts,
  findProcessorAccount,
  insertProcessorAccount,
  listProcessorAccounts,
  softDeleteProcessorAccount,
  updateProcessorAccount,
  type StoredCredentials,
} from './processor-account.repository.ts';
import type { MerchantScope, ProcessorAccount, ProcessorAccountStatus } from './processor-account.types.ts';

/**
 * Processor accounts (docs/processors.md): a merchant connects its own account at a processor; payments of
 * the account's mode are routed to it. Credentials are checked by the processor's module, sealed with a key
 * derived from the master key, and never answered again (their last 4 characters only). Every function that
 * changes something takes the caller's transaction and emits its event in it.
 */

export const CREDENTIALS_PURPOSE = 'processor-credentials-encryption';
/** A bound per (merchant, mode): routing reads them all for every payment. */
export const MAX_PROCESSOR_ACCOUNTS_PER_MODE = 20;

export type NewProcessorAccount = {
  processor: ProcessorName;
  credentials: Record<string, unknown>;
  paymentMethods: PaymentMethodType[];
  currencies?: string[] | null;
  priority?: number;
  /** Adyen: "multiple partial captures" is on at Adyen. Others: only their fixed value is accepted. */
  multipleCaptures?: boolean;
  apiBaseUrl?: string | null;
  /** Validated by the route (`zMetadata`: no null values). */
  metadata?: Metadata;
};

export type ProcessorAccountUpdate = {
  credentials?: Record<string, unknown>;
  paymentMethods?: PaymentMethodType[];
  currencies?: string[] | null;
  priority?: number;
  multipleCaptures?: boolean;
  status?: ProcessorAccountStatus;
  metadata?: MetadataPatch | null;
};

export type ProcessorAccountServiceDeps = {
  keyring: Pick<Keyring, 'encrypt' | 'decrypt'>;
  clock: Clock;
  modules: ProcessorModules;
  /** `api_base_url` is refused in production: live money only ever goes to the processor's real hosts. */
  environment: 'development' | 'production' | 'test';
  /** Base of `webhook_url`. */
  publicUrl: string;
};

export type ProcessorAccountService = ReturnType<typeof createProcessorAccountService>;

/** "sk_test_…abcd": a recognisable key prefix (if any) and the last 4 characters. */
export function secretHint(value: string): string {
  const prefix = /^[A-Za-z]+_(?:(?:test|live)_)?/.exec(value)?.[0] ?? '';
  return `${prefix}…${value.slice(-4)}`;
}

/** The webhook URL a merchant registers at the processor for this account. */
export function processorWebhookUrl(publicUrl: string, accountId: string): string {
  return `${publicUrl.replace(/\/$/, '')}/v1/processor-webhooks/${accountId}`;
}

export function createProcessorAccountService(deps: ProcessorAccountServiceDeps) {
  function moduleOf(processor: ProcessorName): AnyProcessorModule {
    const module = deps.modules[processor];
    if (!module) {
      throw validationError([
        {
          pointer: '/processor',
          code: 'unsupported',
          message: `must be a processor this gateway can connect; got "${processor}"`,
        },
      ]);
    }
    return module;
  }

  function seal(module: AnyProcessorModule, credentials: Record<string, string>): StoredCredentials {
    const secrets = new Set<string>(module.secretFields);
    const publicCredentials: Record<string, string> = {};
    const secretHints: Record<string, string> = {};
    for (const [field, value] of Object.entries(credentials)) {
      if (secrets.has(field) || field === module.webhookSecretField) secretHints[field] = secretHint(value);
      else publicCredentials[field] = value;
    }
    return {
      publicCredentials,
      secretHints,
      credentialsSealed: deps.keyring.encrypt(CREDENTIALS_PURPOSE, JSON.stringify(credentials)),
      webhookSecretSet: Boolean(credentials[module.webhookSecretField]),
    };
  }

  function emit(tx: UnitOfWork, account: ProcessorAccount, type: 'created' | 'updated' | 'deleted') {
    tx.emit({
      merchantId: account.merchantId,
      livemode: account.livemode,
      type: `processor_account.${type}`,
      objectId: account.id,
      objectVersion: account.version,
      data: presentProcessorAccount(account, deps.publicUrl),
    });
  }

  function openCredentials(account: ProcessorAccount): Record<string, string> {
    return JSON.parse(
      deps.keyring.decrypt(CREDENTIALS_PURPOSE, account.credentialsSealed).toString('utf8'),
    ) as Record<string, string>;
  }

  async function requireAccount(db: Queryable, scope: MerchantScope, id: string, forUpdate = false) {
    const account = await findProcessorAccount(db, scope, id, { forUpdate });
    if (!account) throw notFoundError('processor account', id);
    return account;
  }

  return {
    get: (db: Queryable, scope: MerchantScope, id: string) => requireAccount(db, scope, id),

    list: (db: Queryable, scope: MerchantScope, page: PageRequest) => listProcessorAccounts(db, scope, page),

    /** The account's credentials, opened (for building its connector). */
    openCredentials,

    async create(
      tx: UnitOfWork,
      scope: MerchantScope,
      input: NewProcessorAccount,
    ): Promise<ProcessorAccount> {
      const module = moduleOf(input.processor);
      const checked = checkCredentials(module, input.credentials, scope);
      const currencies = checkCurrencies(input.currencies);
      const metadata = input.metadata ?? {};
      const multipleCaptures = checkMultipleCaptures(module, input.multipleCaptures);
      const errors = [
        ...checked.errors,
        ...currencies.errors,
        multipleCaptures.error,
        checkApiBaseUrl(input.apiBaseUrl, deps.environment),
        metadataKeyCountError(metadata),
      ].filter((error): error is FieldError => error !== null);
      if (errors.length > 0) throw validationError(errors);
      if ((await countProcessorAccounts(tx, scope)) >= MAX_PROCESSOR_ACCOUNTS_PER_MODE) {
        throw new AppError(
          'conflict',
          `A merchant can have at most ${MAX_PROCESSOR_ACCOUNTS_PER_MODE} processor accounts per mode; delete one first`,
        );
      }
      const account = await insertProcessorAccount(tx, {
        id: newId('pa'),
        scope,
        processor: input.processor,
        paymentMethods: [...new Set(input.paymentMethods)],
        currencies: currencies.currencies ?? null,
        priority: input.priority ?? 0,
        multipleCaptures: multipleCaptures.value,
        apiBaseUrl: input.apiBaseUrl ?? null,
        metadata,
        now: deps.clock.now(),
        ...seal(module, checked.credentials),
      });
      emit(tx, account, 'created');
      return account;
    },

    /** `credentials` are merged onto the stored ones (e.g. only the webhook secret), then checked whole. */
    async update(
      tx: UnitOfWork,
      scope: MerchantScope,
      id: string,
      patch: ProcessorAccountUpdate,
    ): Promise<ProcessorAccount> {
      const current = await requireAccount(tx, scope, id, true);
      const module = moduleOf(current.processor);
      let credentials: StoredCredentials | undefined;
      const errors: FieldError[] = [];
      if (patch.credentials) {
        const merged = { ...openCredentials(current), ...patch.credentials };
        const checked = checkCredentials(module, merged, scope);
        errors.push(...checked.errors);
        if (checked.errors.length === 0) credentials = seal(module, checked.credentials);
      }
      const currencies = checkCurrencies(patch.currencies);
      errors.push(...currencies.errors);
      const metadata =
        patch.metadata === undefined ? undefined : mergeMetadata(current.metadata, patch.metadata);
      const metadataError = metadata ? metadataKeyCountError(metadata) : null;
      if (metadataError) errors.push(metadataError);
      const multipleCapturesError =
        patch.multipleCaptures === undefined
          ? null
          : checkMultipleCaptures(module, patch.multipleCaptures).error;
      if (multipleCapturesError) errors.push(multipleCapturesError);
      if (errors.length > 0) throw validationError(errors);
      // A patch that changes nothing answers the account as it is: no new version, no event.
      const sameList = (a: readonly string[] | null, b: readonly string[] | null) =>
        a === b || (a !== null && b !== null && [...a].sort().join() === [...b].sort().join());
      const unchanged =
        (patch.status === undefined || patch.status === current.status) &&
        (patch.priority === undefined || patch.priority === current.priority) &&
        (patch.multipleCaptures === undefined || patch.multipleCaptures === current.multipleCaptures) &&
        (patch.paymentMethods === undefined || sameList(patch.paymentMethods, current.paymentMethods)) &&
        (currencies.currencies === undefined || sameList(currencies.currencies, current.currencies)) &&
        (metadata === undefined ||
          JSON.stringify(sortedEntries(metadata)) === JSON.stringify(sortedEntries(current.metadata))) &&
        (patch.credentials === undefined ||
          JSON.stringify(sortedEntries({ ...openCredentials(current), ...patch.credentials })) ===
            JSON.stringify(sortedEntries(openCredentials(current))));
      if (unchanged) return current;
      const updated = await updateProcessorAccount(
        tx,
        id,
        {
          status: patch.status,
          paymentMethods: patch.paymentMethods ? [...new Set(patch.paymentMethods)] : undefined,
          currencies: currencies.currencies,
          priority: patch.priority,
          multipleCaptures: patch.multipleCaptures,
          credentials,
          metadata,
        },
        deps.clock.now(),
      );
      emit(tx, updated, 'updated');
      return updated;
    },

    /** A soft delete: no new payments; payments it took keep reaching it (captures, refunds, webhooks). */
    async remove(tx: UnitOfWork, scope: MerchantScope, id: string): Promise<ProcessorAccount> {
      await requireAccount(tx, scope, id, true);
      const deleted = await softDeleteProcessorAccount(tx, id, deps.clock.now());
      emit(tx, deleted, 'deleted');
      return deleted;
    },
  };
}

function sortedEntries(record: Record<string, unknown>): [string, unknown][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

export function presentProcessorAccount(account: ProcessorAccount, publicUrl: string) {
  return {
    id: account.id,
    object: 'processor_account' as const,
    processor: account.processor,
    livemode: account.livemode,
    status: account.status,
    payment_methods: PAYMENT_METHOD_TYPES.filter((method) => account.paymentMethods.includes(method)),
    currencies: account.currencies,
    priority: account.priority,
    multiple_captures: account.multipleCaptures,
    api_base_url: account.apiBaseUrl,
    webhook_url: processorWebhookUrl(publicUrl, account.id),
    webhook_secret_set: account.webhookSecretSet,
    credentials: { ...account.publicCredentials, ...account.secretHints },
    metadata: account.metadata,
    version: account.version,
    created_at: account.createdAt.toISOString(),
    updated_at: account.updatedAt.toISOString(),
    deleted_at: account.deletedAt?.toISOString() ?? null,
  };
}
