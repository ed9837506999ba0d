import type { ComponentChildren, VNode } from 'preact';
import { renderToString } from 'preact-render-to-string';
import type { Role } from '../modules/users/permissions.ts';

/**
 * The dashboard's document shell: the hosted pages' stylesheet (one design system: tokens, fields, buttons,
 * alerts) plus the dashboard's own layout rules, both from `public/` under the response's CSP nonce; no script.
 * Preact renders on the server only, and escapes every interpolated value.
 */

export const CSRF_FIELD = 'csrf_token';
export const FORM_KEY_FIELD = 'form_key';

export type Viewer = {
  email: string;
  role: Role;
  merchantName: string;
  livemode: boolean;
  csrfToken: string;
  /** Sections shown in the navigation (the server refuses the others anyway). */
  nav: NavFlags;
};

export type Section =
  | 'home'
  | 'orders'
  | 'developers'
  | 'webhooks'
  | 'processors'
  | 'team'
  | 'audit-log'
  | 'account'
  | 'checkouts'
  | 'payment-links'
  | 'settings';

/**
 * Sections the person's role may see: Developers (api_keys:read), Webhooks (webhooks:read), Processors
 * (processor_accounts:read), Checkouts (checkouts:read), Payment links (payment_links:read), Settings
 * (merchant:read), the Team and the Audit log.
 */
export type NavFlags = {
  developers: boolean;
  webhooks?: boolean;
  processors?: boolean;
  checkouts?: boolean;
  paymentLinks?: boolean;
  settings?: boolean;
  team?: boolean;
  auditLog?: boolean;
};

export function renderDocument(page: VNode): string {
  return `<!doctype html>\n${renderToString(page)}`;
}

export function CsrfField({ token }: { token: string }) {
  return <input type="hidden" name={CSRF_FIELD} value={token} />;
}

/**
 * A one-button form (Roll, Revoke, Remove…) in a table row: `hiddenLabel` names the row's object for screen
 * readers, so every button of the table says what it acts on.
 */
export function ActionButton(props: {
  action: string;
  csrfToken: string;
  label: string;
  hiddenLabel: string;
}) {
  return (
    <form method="post" action={props.action}>
      <CsrfField token={props.csrfToken} />
      <button class="button button--secondary dash-button" type="submit">
        {props.label} <span class="visually-hidden">{props.hiddenLabel}</span>
      </button>
    </form>
  );
}

/** The Enable/Disable button of an account or endpoint: a form that sets `status` to the other value. */
export function StatusToggle(props: {
  action: string;
  csrfToken: string;
  enabled: boolean;
  /** The `status` values that mean enabled and disabled. */
  values: { enabled: string; disabled: string };
  hiddenLabel?: string;
}) {
  return (
    <form method="post" action={props.action}>
      <CsrfField token={props.csrfToken} />
      <input
        type="hidden"
        name="status"
        value={props.enabled ? props.values.disabled : props.values.enabled}
      />
      <button class="button button--secondary dash-button" type="submit">
        {props.enabled ? 'Disable' : 'Enable'}
        {props.hiddenLabel && (
          <>
            {' '}
            <span class="visually-hidden">{props.hiddenLabel}</span>
          </>
        )}
      </button>
    </form>
  );
}

function Head({ title, nonce }: { title: string; nonce: string }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="robots" content="noindex, nofollow" />
      <meta name="color-scheme" content="light" />
      <title>{`${title} · Kassa dashboard`}</title>
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href="/public/checkout/checkout.css" nonce={nonce} />
      <link rel="stylesheet" href="/public/dashboard/dashboard.css" nonce={nonce} />
    </head>
  );
}

/** A page of a signed-in person: the navigation, the test-mode banner and the main content. */
export function AppPage(props: {
  title: string;
  nonce: string;
  viewer: Viewer;
  section: Section;
  children: ComponentChildren;
}) {
  const { viewer } = props;
  const link = (section: Section, href: string, label: string) => (
    <a class="dash-nav__link" href={href} aria-current={props.section === section ? 'page' : undefined}>
      {label}
    </a>
  );
  return (
    <html lang="en">
      <Head title={props.title} nonce={props.nonce} />
      <body class="dash">
        <a class="dash-skip" href="#main">
          Skip to content
        </a>
        {!viewer.livemode && (
          <div class="dash-testmode" role="note">
            Test mode: test data only, no real money moves.
          </div>
        )}
        <header class="dash-header">
          <div class="dash-header__inner">
            <a class="dash-brand" href="/dashboard">
              <span class="merchant__initial" aria-hidden="true">
                K
              </span>
              <span class="dash-brand__name">{viewer.merchantName}</span>
            </a>
            <nav class="dash-nav" aria-label="Dashboard">
              {link('home', '/dashboard', 'Home')}
              {link('orders', '/dashboard/orders', 'Payments')}
              {viewer.nav.checkouts && link('checkouts', '/dashboard/checkouts', 'Checkouts')}
              {viewer.nav.paymentLinks && link('payment-links', '/dashboard/payment-links', 'Payment links')}
              {viewer.nav.settings && link('settings', '/dashboard/settings', 'Settings')}
              {viewer.nav.developers && link('developers', '/dashboard/developers', 'Developers')}
              {viewer.nav.webhooks && link('webhooks', '/dashboard/webhooks', 'Webhooks')}
              {viewer.nav.processors && link('processors', '/dashboard/processor-accounts', 'Processors')}
              {viewer.nav.team && link('team', '/dashboard/team', 'Team')}
              {viewer.nav.auditLog && link('audit-log', '/dashboard/audit-log', 'Audit log')}
              {link('account', '/dashboard/account', 'Account')}
            </nav>
            <ModeSwitch viewer={viewer} />
            <form class="dash-signout" method="post" action="/dashboard/sign-out">
              <CsrfField token={viewer.csrfToken} />
              <span class="dash-signout__who">
                {viewer.email} <span class="badge">{viewer.role}</span>
              </span>
              <button class="button button--secondary dash-button" type="submit">
                Sign out
              </button>
            </form>
          </div>
        </header>
        <main id="main" class="dash-main">
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** The test/live switch: a plain form, so it works without JavaScript (src/dashboard/mode.ts). */
function ModeSwitch({ viewer }: { viewer: Viewer }) {
  return (
    <form class="dash-mode" method="post" action="/dashboard/mode">
      <CsrfField token={viewer.csrfToken} />
      <input type="hidden" name="mode" value={viewer.livemode ? 'test' : 'live'} />
      <span class={`dash-mode__now dash-mode__now--${viewer.livemode ? 'live' : 'test'}`}>
        {viewer.livemode ? 'Live mode' : 'Test mode'}
      </span>
      <button class="button button--secondary dash-button" type="submit">
        {viewer.livemode ? 'Switch to test' : 'Switch to live'}
      </button>
    </form>
  );
}

/** A page outside a session: sign-in and errors. */
export function PlainPage(props: { title: string; nonce: string; children: ComponentChildren }) {
  return (
    <html lang="en">
      <Head title={props.title} nonce={props.nonce} />
      <body class="dash dash--plain">
        <main id="main" class="shell shell--narrow dash-plain">
          {props.children}
        </main>
      </body>
    </html>
  );
}

/** A page outside a session as one panel: its heading (the title unless told), then `children`. */
export function PanelPage(props: {
  title: string;
  heading?: string;
  nonce: string;
  children: ComponentChildren;
}) {
  return (
    <PlainPage title={props.title} nonce={props.nonce}>
      <div class="panel">
        <div class="panel__header">
          <h1 class="panel__title">{props.heading ?? props.title}</h1>
        </div>
        <div class="panel__body">{props.children}</div>
      </div>
    </PlainPage>
  );
}

export function Notice({
  kind,
  children,
}: {
  kind: 'error' | 'success' | 'info';
  children: ComponentChildren;
}) {
  return (
    <div class={`dash-notice dash-notice--${kind}`} role={kind === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}

/** A page's notice (something done) and error (something refused), as `pageFeedback` gives them. */
export function Feedback(props: { notice?: string | undefined; error?: string | undefined }) {
  return (
    <>
      {props.notice && <Notice kind="success">{props.notice}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
    </>
  );
}
