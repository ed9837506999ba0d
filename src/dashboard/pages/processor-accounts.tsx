import { PAYMENT_METHOD_TYPES } from '../../connectors/connector.ts';
import type { ProcessorName } from '../../connectors/processor.ts';
import type { ProcessorAccount } from '../../modules/processor-accounts/processor-account.types.ts';
import {
  AppPage,
  CsrfField,
  FORM_KEY_FIELD,
  Notice,
  type Viewer,
  Feedback,
  StatusToggle,
} from '../layout.tsx';
import { ListTable, StatusBadge } from './list-page.tsx';

/** The credential fields of each processor's form (the connector's schema checks them on the server). */
export const CREDENTIAL_FIELDS: Record<
  ProcessorName,
  readonly { name: string; label: string; secret: boolean; required: boolean }[]
> = {
  stripe: [
    { name: 'secret_key', label: 'Secret key (sk_test_… or sk_live_…)', secret: true, required: true },
    {
      name: 'webhook_secret',
      label: 'Webhook signing secret (whsec_…, optional)',
      secret: true,
      required: false,
    },
  ],
  adyen: [
    { name: 'api_key', label: 'API key', secret: true, required: true },
    { name: 'merchant_account', label: 'Merchant account', secret: false, required: true },
    { name: 'hmac_key', label: 'HMAC key (hexadecimal, optional)', secret: true, required: false },
    { name: 'live_url_prefix', label: 'Live URL prefix (live mode only)', secret: false, required: false },
  ],
  sandbox: [],
};

const PROCESSOR_LABELS: Record<ProcessorName, string> = {
  stripe: 'Stripe',
  adyen: 'Adyen',
  sandbox: 'Sandbox (test mode, no real money)',
};

export type ProcessorDraft = { processor: ProcessorName; error: string };

function CredentialInput(props: {
  id: string;
  field: (typeof CREDENTIAL_FIELDS)[ProcessorName][number];
  required: boolean;
}) {
  const common = {
    class: 'field__input',
    id: props.id,
    name: `credential_${props.field.name}`,
    required: props.required,
    maxLength: 4096,
    autocomplete: 'off',
  };
  // Two elements: preact's input types tie `type` to the attributes each kind allows.
  return props.field.secret ? <input {...common} type="password" /> : <input {...common} type="text" />;
}

/**
 * New credentials for a connected account: every field optional (an empty one keeps the stored value), the
 * stored secrets never written back into the page — only their last 4 characters, beside each label.
 */
function UpdateCredentialsForm(props: { viewer: Viewer; account: ProcessorAccount }) {
  const { account } = props;
  const hints: Record<string, string> = { ...account.publicCredentials, ...account.secretHints };
  return (
    <form
      class="dash-form"
      method="post"
      action={`/dashboard/processor-accounts/${account.id}/credentials`}
      autocomplete="off"
    >
      <CsrfField token={props.viewer.csrfToken} />
      <fieldset class="field">
        <legend class="field__label">
          {PROCESSOR_LABELS[account.processor]} <span class="dash-code">{account.id}</span>
        </legend>
        {CREDENTIAL_FIELDS[account.processor].map((field) => (
          <div class="field" key={field.name}>
            <label class="field__label" for={`${account.id}-${field.name}`}>
              {field.label}
            </label>
            <CredentialInput id={`${account.id}-${field.name}`} field={field} required={false} />
            <span class="field__hint">
              {hints[field.name] ? `Now: ${hints[field.name]}` : 'Not set'}. Empty keeps it.
            </span>
          </div>
        ))}
      </fieldset>
      <button class="button button--secondary dash-button" type="submit">
        Save credentials <span class="visually-hidden">of {account.id}</span>
      </button>
    </form>
  );
}

function ConnectForm(props: { viewer: Viewer; processor: ProcessorName; formKey: string; error?: string }) {
  const { processor } = props;
  const id = (field: string) => `${processor}-${field}`;
  return (
    <section class="dash-card">
      <h2 class="dash-card__title">Connect {PROCESSOR_LABELS[processor]}</h2>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <form class="dash-form" method="post" action="/dashboard/processor-accounts" autocomplete="off">
        <CsrfField token={props.viewer.csrfToken} />
        <input type="hidden" name={FORM_KEY_FIELD} value={props.formKey} />
        <input type="hidden" name="processor" value={processor} />
        {CREDENTIAL_FIELDS[processor].map((field) => (
          <div class="field" key={field.name}>
            <label class="field__label" for={id(field.name)}>
              {field.label}
            </label>
            <CredentialInput id={id(field.name)} field={field} required={field.required} />
          </div>
        ))}
        <fieldset class="field">
          <legend class="field__label">Payment methods</legend>
          {PAYMENT_METHOD_TYPES.map((method) => (
            <label class="checkbox" key={method}>
              <input
                class="checkbox__input"
                type="checkbox"
                name="payment_methods"
                value={method}
                checked={method === 'card'}
              />{' '}
              {method}
            </label>
          ))}
        </fieldset>
        <div class="field">
          <label class="field__label" for={id('currencies')}>
            Currencies (e.g. EUR, USD; empty: every currency)
          </label>
          <input class="field__input" id={id('currencies')} name="currencies" maxLength={1000} />
        </div>
        <div class="field">
          <label class="field__label" for={id('priority')}>
            Priority (lower is tried first)
          </label>
          <input
            class="field__input"
            id={id('priority')}
            name="priority"
            type="number"
            min={-1000}
            max={1000}
            value="0"
          />
        </div>
        <button class="button button--primary dash-button" type="submit">
          Connect {processor}
        </button>
      </form>
    </section>
  );
}

export function ProcessorAccountsPage(props: {
  nonce: string;
  viewer: Viewer;
  accounts: ProcessorAccount[];
  webhookUrlOf: (id: string) => string;
  canWrite: boolean;
  formKeys: Record<ProcessorName, string>;
  notice?: string;
  error?: string;
  refused?: ProcessorDraft;
}) {
  const { viewer } = props;
  const processors: ProcessorName[] = viewer.livemode ? ['stripe', 'adyen'] : ['stripe', 'adyen', 'sandbox'];
  return (
    <AppPage title="Processor accounts" nonce={props.nonce} viewer={viewer} section="processors">
      <h1 class="dash-title">Processor accounts</h1>
      <Feedback notice={props.notice} error={props.error} />
      <section class="dash-card">
        <h2 class="dash-card__title">Accounts ({viewer.livemode ? 'live' : 'test'} mode)</h2>
        <p class="dash-muted">
          Payments go to the enabled account that takes their method and currency, lowest priority first.
          Credentials are stored encrypted and never shown again: only their last 4 characters.
        </p>
        <ListTable
          headings={['Account', 'Takes', 'Credentials', 'Status and priority']}
          rowCount={props.accounts.length}
          emptyText="No processor accounts: payments use the gateway's default processor."
        >
          {props.accounts.map((account) => (
            <tr key={account.id}>
              <td>
                {account.processor}
                <div class="dash-muted dash-code">{account.id}</div>
              </td>
              <td>
                {account.paymentMethods.join(', ')}
                <div class="dash-muted">{account.currencies?.join(', ') ?? 'every currency'}</div>
              </td>
              <td>
                {Object.entries({ ...account.publicCredentials, ...account.secretHints }).map(
                  ([field, value]) => (
                    <div key={field}>
                      {field}: <span class="dash-code">{value}</span>
                    </div>
                  ),
                )}
                {account.processor !== 'sandbox' && (
                  <div class="dash-muted">
                    Webhook URL: <span class="dash-code dash-break">{props.webhookUrlOf(account.id)}</span>
                    {!account.webhookSecretSet && ' (its signing secret is not set: webhooks are refused)'}
                  </div>
                )}
              </td>
              <td>
                <StatusBadge status={account.status} /> priority {account.priority}
                {props.canWrite && (
                  <div class="dash-row-actions">
                    <StatusToggle
                      action={`/dashboard/processor-accounts/${account.id}/status`}
                      csrfToken={viewer.csrfToken}
                      enabled={account.status === 'ENABLED'}
                      values={{ enabled: 'ENABLED', disabled: 'DISABLED' }}
                      hiddenLabel={account.id}
                    />
                    <form method="post" action={`/dashboard/processor-accounts/${account.id}/priority`}>
                      <CsrfField token={viewer.csrfToken} />
                      <label class="visually-hidden" for={`priority-${account.id}`}>
                        Priority of {account.id}
                      </label>
                      <input
                        class="field__input dash-narrow"
                        id={`priority-${account.id}`}
                        name="priority"
                        type="number"
                        min={-1000}
                        max={1000}
                        value={String(account.priority)}
                      />
                      <button class="button button--secondary dash-button" type="submit">
                        Set priority <span class="visually-hidden">of {account.id}</span>
                      </button>
                    </form>
                  </div>
                )}
              </td>
            </tr>
          ))}
        </ListTable>
      </section>
      {props.canWrite && props.accounts.some((account) => account.processor !== 'sandbox') && (
        <section class="dash-card">
          <h2 class="dash-card__title">Update credentials</h2>
          <p class="dash-muted">
            A rolled key, or the webhook signing secret once the processor shows it. Saved encrypted, like a
            new account's; fill in only what changes.
          </p>
          {props.accounts
            .filter((account) => account.processor !== 'sandbox')
            .map((account) => (
              <UpdateCredentialsForm key={account.id} viewer={viewer} account={account} />
            ))}
        </section>
      )}
      {props.canWrite &&
        processors.map((processor) => (
          <ConnectForm
            key={processor}
            viewer={viewer}
            processor={processor}
            formKey={props.formKeys[processor]}
            error={props.refused?.processor === processor ? props.refused.error : undefined}
          />
        ))}
    </AppPage>
  );
}
