import { CALLBACK_NAMES } from '../../modules/checkouts/checkout.schemas.ts';
import type { CheckoutStatus } from '../../modules/checkouts/checkout.states.ts';
import type { Merchant } from '../../modules/merchants/merchant.types.ts';
import { DEVICES, type EligibilityResult } from '../../modules/payment-methods/eligibility.ts';
import type { PaymentMethodSettingRecord } from '../../modules/payment-methods/payment-method-settings.repository.ts';
import type { FormProblem } from '../form-errors.ts';
import { AppPage, CsrfField, Notice, type Viewer } from '../layout.tsx';
import type { BrandingDraft } from './settings-preview.ts';

/** What a refused form typed, shown again with the problems (nothing of it was saved). */
export type SettingsDrafts = {
  branding?: BrandingDraft;
  terminal?: {
    callbacks: Record<string, string>;
    capture: string;
    locale: string;
    lifetimeMinutes: string;
  };
  problems?: Record<string, FormProblem[]>;
};

export type EligibilityView =
  | { checkoutId: string; device: string; found: false }
  | { checkoutId: string; device: string; found: true; status: CheckoutStatus; result: EligibilityResult };

const CALLBACK_HINTS: Record<(typeof CALLBACK_NAMES)[number], string> = {
  ok: 'Called when a payment succeeds',
  fail: 'Called when a payment fails',
  open: 'Called when a payment is pending (e.g. an invoice)',
  notification: 'Called on later changes (captures, refunds)',
  verify_order: 'Asked before a payment is made; may refuse it',
};

function Problems({ problems }: { problems: FormProblem[] | undefined }) {
  if (!problems?.length) return null;
  return (
    <Notice kind="error">
      <p>The settings were not saved:</p>
      <ul>
        {problems.map((problem, index) => (
          <li key={index}>{problem.field ? `${problem.field}: ${problem.message}` : problem.message}</li>
        ))}
      </ul>
    </Notice>
  );
}

function TextField(props: {
  id: string;
  label: string;
  value: string;
  hint?: string;
  type?: 'text' | 'url';
  disabled: boolean;
  inputmode?: 'numeric';
}) {
  return (
    <div class="field">
      <label class="field__label" for={props.id}>
        {props.label}
      </label>
      <input
        class="field__input"
        id={props.id}
        name={props.id}
        type="text"
        value={props.value}
        disabled={props.disabled}
        inputMode={props.type === 'url' ? 'url' : props.inputmode}
        aria-describedby={props.hint ? `${props.id}-hint` : undefined}
      />
      {props.hint && (
        <span class="field__hint" id={`${props.id}-hint`}>
          {props.hint}
        </span>
      )}
    </div>
  );
}

export function previewQuery(branding: BrandingDraft): string {
  return new URLSearchParams({
    display_name: branding.displayName,
    logo_url: branding.logoUrl,
    primary_color: branding.primaryColor,
  }).toString();
}

export function SettingsPage(props: {
  nonce: string;
  viewer: Viewer;
  merchant: Merchant;
  methods: PaymentMethodSettingRecord[];
  canWrite: boolean;
  drafts: SettingsDrafts;
  eligibility: EligibilityView | undefined;
  notice: string | undefined;
}) {
  const { merchant, drafts, canWrite } = props;
  const saved: BrandingDraft = {
    displayName: merchant.displayName ?? merchant.name,
    logoUrl: merchant.logoUrl ?? '',
    primaryColor: merchant.primaryColor ?? '',
  };
  const branding = drafts.branding ?? saved;
  const terminal = drafts.terminal ?? {
    callbacks: Object.fromEntries(
      CALLBACK_NAMES.map((name) => [name, merchant.defaultCallbacks[name] ?? '']),
    ),
    capture: merchant.defaultCapture,
    locale: merchant.defaultLocale,
    lifetimeMinutes: String(Math.round(merchant.defaultSessionLifetimeSeconds / 60)),
  };
  const readOnly = !canWrite;
  return (
    <AppPage title="Settings" nonce={props.nonce} viewer={props.viewer} section="settings">
      <h1 class="dash-title">Settings</h1>
      {props.notice && <Notice kind="success">{props.notice}</Notice>}
      {readOnly && (
        <p class="dash-muted">Your role ({props.viewer.role}) may see these settings but not change them.</p>
      )}
      <section class="dash-card" aria-labelledby="branding-title">
        <h2 class="dash-card__title" id="branding-title">
          Branding
        </h2>
        <p class="dash-muted">Shown to shoppers on the hosted payment page. Shared by test and live mode.</p>
        <Problems problems={drafts.problems?.branding} />
        <div class="dash-branding">
          <form class="dash-form" method="post" action="/dashboard/settings/branding" id="branding-form">
            <CsrfField token={props.viewer.csrfToken} />
            <TextField id="display_name" label="Display name" value={branding.displayName} disabled={false} />
            <TextField
              id="logo_url"
              label="Logo URL"
              type="url"
              value={branding.logoUrl}
              hint="An https:// address of an image (http:// only in test mode); empty for none"
              disabled={false}
            />
            <TextField
              id="primary_color"
              label="Brand colour"
              value={branding.primaryColor}
              hint="#rrggbb, e.g. #0055ff; empty for Kassa's colour. Text on it is made readable."
              disabled={false}
            />
            <div class="dash-form__actions">
              <button
                class="button button--secondary dash-button"
                type="submit"
                formaction="/dashboard/settings/preview"
                formtarget="branding-preview"
              >
                Preview
              </button>
              {canWrite && (
                <button class="button button--primary dash-button" type="submit">
                  Save branding
                </button>
              )}
            </div>
          </form>
          <iframe
            class="dash-preview"
            name="branding-preview"
            title="Preview of the hosted payment page"
            src={`/dashboard/settings/preview?${previewQuery(branding)}`}
            sandbox="allow-same-origin"
            loading="lazy"
          />
        </div>
      </section>

      <section class="dash-card" aria-labelledby="terminal-title">
        <h2 class="dash-card__title" id="terminal-title">
          Terminal settings
        </h2>
        <p class="dash-muted">Defaults every new checkout inherits unless it says otherwise.</p>
        <Problems problems={drafts.problems?.terminal} />
        <form class="dash-form" method="post" action="/dashboard/settings/terminal">
          <CsrfField token={props.viewer.csrfToken} />
          <fieldset class="dash-fieldset" disabled={readOnly}>
            <legend>Default callback URLs</legend>
            {CALLBACK_NAMES.map((name) => (
              <TextField
                key={name}
                id={`callback_${name}`}
                label={`Callback ${name}`}
                type="url"
                value={terminal.callbacks[name] ?? ''}
                hint={`${CALLBACK_HINTS[name]}. Empty for none.`}
                disabled={false}
              />
            ))}
          </fieldset>
          <fieldset class="dash-fieldset" disabled={readOnly}>
            <legend>Checkout defaults</legend>
            <div class="field">
              <label class="field__label" for="default_capture_mode">
                Default capture
              </label>
              <select class="field__input" id="default_capture_mode" name="default_capture_mode">
                <option value="automatic" selected={terminal.capture === 'automatic'}>
                  Automatic: capture when authorized
                </option>
                <option value="manual" selected={terminal.capture === 'manual'}>
                  Manual: authorize now, capture later
                </option>
              </select>
            </div>
            <TextField
              id="default_locale"
              label="Default language"
              value={terminal.locale}
              hint="EN, ES_LATAM, DA or a language tag such as da-DK"
              disabled={false}
            />
            <TextField
              id="session_lifetime_minutes"
              label="Checkout lifetime (minutes)"
              value={terminal.lifetimeMinutes}
              inputmode="numeric"
              hint="How long a new checkout can be paid: 1 minute to 30 days (43200)"
              disabled={false}
            />
          </fieldset>
          {canWrite && (
            <button class="button button--primary dash-button" type="submit">
              Save terminal settings
            </button>
          )}
        </form>
      </section>

      <section class="dash-card" id="payment-methods" aria-labelledby="methods-title">
        <h2 class="dash-card__title" id="methods-title">
          Payment methods ({props.viewer.livemode ? 'live' : 'test'} mode)
        </h2>
        <p class="dash-muted">
          A method is offered only when it is enabled and the checkout matches every rule. Lists are
          comma-separated codes (DK, SE; EUR, DKK); empty means any. Amounts are in minor units (cents) of the
          checkout's currency.
        </p>
        {props.methods.map((method) => (
          <form
            key={method.method}
            class="dash-form dash-method"
            method="post"
            action={`/dashboard/settings/payment-methods/${method.method}`}
          >
            <CsrfField token={props.viewer.csrfToken} />
            <fieldset class="dash-fieldset" disabled={readOnly}>
              <legend>{method.method}</legend>
              <Problems problems={drafts.problems?.[`method_${method.method}`]} />
              <div class="dash-check">
                <input
                  id={`${method.method}-enabled`}
                  name="enabled"
                  type="checkbox"
                  checked={method.enabled}
                />
                <label for={`${method.method}-enabled`}>Enabled</label>
              </div>
              <div class="dash-method__grid">
                {(
                  [
                    ['countries', 'Countries', (method.countries ?? []).join(', ')],
                    ['currencies', 'Currencies', (method.currencies ?? []).join(', ')],
                    ['min_amount', 'Minimum amount', method.min_amount?.toString() ?? ''],
                    ['max_amount', 'Maximum amount', method.max_amount?.toString() ?? ''],
                    ['display_order', 'Display order', String(method.display_order)],
                  ] as const
                ).map(([name, label, value]) => (
                  <div class="field" key={name}>
                    <label class="field__label" for={`${method.method}-${name}`}>
                      {label}
                    </label>
                    <input
                      class="field__input"
                      id={`${method.method}-${name}`}
                      name={name}
                      type="text"
                      value={value}
                    />
                  </div>
                ))}
              </div>
              <div class="dash-checks" role="group" aria-label={`Devices for ${method.method}`}>
                {DEVICES.map((device) => (
                  <span class="dash-check" key={device}>
                    <input
                      id={`${method.method}-device-${device}`}
                      name="devices"
                      type="checkbox"
                      value={device}
                      checked={method.devices === null || method.devices.includes(device)}
                    />
                    <label for={`${method.method}-device-${device}`}>{device}</label>
                  </span>
                ))}
              </div>
              {canWrite && (
                <button class="button button--secondary dash-button" type="submit">
                  Save {method.method}
                </button>
              )}
            </fieldset>
          </form>
        ))}
      </section>

      <section class="dash-card" aria-labelledby="why-title">
        <h2 class="dash-card__title" id="why-title">
          Why is a method hidden?
        </h2>
        <form class="dash-form dash-filters" method="get" action="/dashboard/settings#why-title">
          <div class="field">
            <label class="field__label" for="why-checkout">
              Checkout id
            </label>
            <input
              class="field__input"
              id="why-checkout"
              name="checkout"
              type="text"
              value={props.eligibility?.checkoutId ?? ''}
            />
          </div>
          <div class="field">
            <label class="field__label" for="why-device">
              Device
            </label>
            <select class="field__input" id="why-device" name="device">
              {DEVICES.map((device) => (
                <option key={device} value={device} selected={props.eligibility?.device === device}>
                  {device}
                </option>
              ))}
            </select>
          </div>
          <div class="dash-filters__actions">
            <button class="button button--secondary dash-button" type="submit">
              Explain
            </button>
          </div>
        </form>
        {props.eligibility && <EligibilityAnswer view={props.eligibility} />}
      </section>
      <script src="/public/dashboard/shop.js" nonce={props.nonce} defer />
    </AppPage>
  );
}

function EligibilityAnswer({ view }: { view: EligibilityView }) {
  if (!view.found)
    return (
      <p class="dash-muted" role="status">
        There is no checkout {view.checkoutId} in this mode.
      </p>
    );
  return (
    <div role="status">
      <p>
        Checkout {view.checkoutId} ({view.status}) on {view.device} offers:{' '}
        {view.result.eligible.length > 0
          ? view.result.eligible.map((setting) => setting.method).join(', ')
          : 'no method'}
        .
      </p>
      {view.result.hidden.length > 0 && (
        <ul class="dash-why">
          {view.result.hidden.map((hidden) => (
            <li key={hidden.method}>
              <strong>{hidden.method}</strong> is hidden: {hidden.message}{' '}
              <span class="badge">{hidden.rule}</span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
