import type { FastifyReply, FastifyRequest } from 'fastify';
import { PAYMENT_METHOD_TYPES, type PaymentMethodType } from '../../connectors/connector.ts';
import { PROCESSOR_NAMES, type ProcessorName } from '../../connectors/processor.ts';
import { AppError } from '../../lib/errors.ts';
import { pooledRandomHex } from '../../lib/random.ts';
import { processorWebhookUrl } from '../../modules/processor-accounts/processor-account.service.ts';
import { roleAllows } from '../../modules/users/permissions.ts';
import { isRepeatedForm, recordFormOnce } from '../form-once.ts';
import {
  DashboardRefusal,
  formKeyOf,
  formText,
  NATURAL_POST,
  TRANSACTIONAL_POST,
  type Context,
  pageFeedback,
  areaAudit,
  refusalMessage,
} from '../kit.tsx';
import {
  CREDENTIAL_FIELDS,
  ProcessorAccountsPage,
  type ProcessorDraft,
} from '../pages/processor-accounts.tsx';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

const PATH = '/dashboard/processor-accounts';

const NOTICES: Record<string, string> = {
  created: 'The processor account was connected.',
  already_created: 'This form was already sent: its account was connected then.',
  enabled: 'The account is enabled: new payments may be routed to it.',
  disabled: 'The account is disabled: no new payment is routed to it.',
  priority: 'The priority was saved.',
  credentials: 'The credentials were saved. Only their last 4 characters are shown.',
};

function refusal(): never {
  throw new DashboardRefusal(400, 'Form refused', 'The form is incomplete; reload the page.');
}

/** The credential fields of this processor's form that were filled in (an empty field is not sent). */
function credentialsOf(request: FastifyRequest, processor: ProcessorName): Record<string, string> {
  const credentials: Record<string, string> = {};
  for (const field of CREDENTIAL_FIELDS[processor]) {
    const value = formText(request, `credential_${field.name}`).trim();
    if (value.length > 4096) refusal();
    if (value !== '') credentials[field.name] = value;
  }
  return credentials;
}

function priorityOf(request: FastifyRequest): number | undefined {
  const text = formText(request, 'priority').trim();
  if (text === '') return undefined;
  const value = Number(text);
  return Number.isInteger(value) && value >= -1000 && value <= 1000 ? value : Number.NaN;
}

/**
 * Processor accounts of this mode through the service `/v1/processor-accounts` calls: list, connect a
 * Stripe, Adyen or sandbox account (credentials are write-only: sealed by the service, shown back only as
 * hints), enable/disable, routing priority.
 */
export function registerProcessorAccountRoutes(scope: KassaApp, kit: DashboardKit) {
  const { services, db, sendPage, seeOther, readPage, writeActionContext } = kit;
  const accounts = services.processorAccounts;

  const auditTx = areaAudit(() => 'processor_account');

  async function accountsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    context: Context,
    extra: { statusCode?: number; refused?: ProcessorDraft; error?: string } = {},
  ) {
    const list = (await accounts.list(db, context.scope, { limit: 100 })).slice(0, 100);
    return sendPage(reply, extra.statusCode ?? 200, (nonce) => (
      <ProcessorAccountsPage
        nonce={nonce}
        viewer={context.viewer}
        accounts={list}
        webhookUrlOf={(id) => processorWebhookUrl(services.config.publicUrl, id)}
        canWrite={roleAllows(context.session.user.role, 'processor_accounts', 'write')}
        formKeys={{ stripe: pooledRandomHex(16), adyen: pooledRandomHex(16), sandbox: pooledRandomHex(16) }}
        {...pageFeedback(request, NOTICES, extra.error)}
        refused={extra.refused}
      />
    ));
  }

  readPage(scope, PATH, 'processor_accounts', accountsPage);

  scope.post(PATH, { config: TRANSACTIONAL_POST, schema: { hide: true } }, async (request, reply) => {
    const context = await writeActionContext(request, 'processor_accounts');
    const formKey = formKeyOf(request);
    const processor = formText(request, 'processor') as ProcessorName;
    if (!(PROCESSOR_NAMES as readonly string[]).includes(processor)) refusal();
    const body = (request.body ?? {}) as Record<string, unknown>;
    const credentials = credentialsOf(request, processor);
    const paymentMethods = ([] as unknown[])
      .concat(body.payment_methods ?? [])
      .filter((value): value is PaymentMethodType =>
        (PAYMENT_METHOD_TYPES as readonly unknown[]).includes(value),
      );
    const currencies = formText(request, 'currencies')
      .split(/[\s,]+/)
      .filter(Boolean)
      .slice(0, 200);
    const priority = priorityOf(request);
    const refused = (error: string) =>
      accountsPage(request, reply, context, { statusCode: 422, refused: { processor, error } });
    if (paymentMethods.length === 0) return refused('Choose at least one payment method.');
    if (Number.isNaN(priority)) return refused('The priority is a whole number from -1000 to 1000.');
    try {
      await db.transaction(async (tx) => {
        const account = await accounts.create(tx, context.scope, {
          processor,
          credentials,
          paymentMethods,
          currencies: currencies.length > 0 ? currencies : null,
          priority,
        });
        await auditTx(tx, request, context, 'processor_account.created', account.id, {
          processor,
          credentials: account.secretHints,
        });
        await recordFormOnce(tx, request, context.scope, formKey, PATH, { id: account.id });
      });
    } catch (error) {
      if (isRepeatedForm(error)) return seeOther(reply, `${PATH}?notice=already_created`);
      if (error instanceof AppError) return refused(refusalMessage(error));
      throw error;
    }
    return seeOther(reply, `${PATH}?notice=created`);
  });

  /**
   * New credentials for an account (a rolled Stripe key, the webhook secret once the processor shows it):
   * the service `PATCH /v1/processor-accounts/{id}` calls, merging the fields given onto the stored ones (an
   * empty field keeps its value), checked by the connector's schema and sealed. The answer and the audit entry
   * carry only the last 4 characters. Setting the same values twice sets them once.
   */
  scope.post(
    `${PATH}/:id/credentials`,
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'processor_accounts');
      const id = (request.params as { id: string }).id;
      const current = await accounts.get(db, context.scope, id); // 404 for another shop's or mode's account
      const credentials = credentialsOf(request, current.processor);
      if (Object.keys(credentials).length === 0)
        return accountsPage(request, reply, context, {
          statusCode: 422,
          error: 'Enter at least one credential to change; empty fields keep their value.',
        });
      try {
        await db.transaction(async (tx) => {
          const account = await accounts.update(tx, context.scope, id, { credentials });
          await auditTx(tx, request, context, 'processor_account.updated', id, {
            changed: Object.keys(credentials),
            credentials: account.secretHints,
          });
        });
      } catch (error) {
        if (error instanceof AppError)
          return accountsPage(request, reply, context, {
            statusCode: 422,
            error: refusalMessage(error),
          });
        throw error;
      }
      return seeOther(reply, `${PATH}?notice=credentials`);
    },
  );

  /** Status and priority set a value: sending the same form twice sets it once. */
  for (const change of ['status', 'priority'] as const) {
    scope.post(
      `${PATH}/:id/${change}`,
      { config: NATURAL_POST, schema: { hide: true } },
      async (request, reply) => {
        const context = await writeActionContext(request, 'processor_accounts');
        const id = (request.params as { id: string }).id;
        let notice: string;
        let patch: { status?: 'ENABLED' | 'DISABLED'; priority?: number };
        if (change === 'status') {
          const status = formText(request, 'status');
          if (status !== 'ENABLED' && status !== 'DISABLED') refusal();
          patch = { status };
          notice = status.toLowerCase();
        } else {
          const priority = priorityOf(request);
          if (priority === undefined || Number.isNaN(priority))
            return seeOther(reply, `${PATH}?error=validation_failed`);
          patch = { priority };
          notice = 'priority';
        }
        try {
          await db.transaction(async (tx) => {
            await accounts.update(tx, context.scope, id, patch);
            await auditTx(tx, request, context, 'processor_account.updated', id, patch);
          });
        } catch (error) {
          if (error instanceof AppError) return seeOther(reply, `${PATH}?error=${error.code}`);
          throw error;
        }
        return seeOther(reply, `${PATH}?notice=${notice}`);
      },
    );
  }
}
