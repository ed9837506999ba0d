import { AppPage, CsrfField, Notice, PanelPage, type Viewer } from '../layout.tsx';

export const STEP_UP_FIELD = 'step_up_code';

/** Pages of two-factor authentication: the code after the password, enrolment, recovery codes, step-up. */

function CodeField(props: { label: string; hint: string; recovery?: boolean; name?: string }) {
  const name = props.name ?? 'code';
  return (
    <div class="field">
      <label class="field__label" for={name}>
        {props.label}
      </label>
      <input
        class="field__input"
        id={name}
        name={name}
        type="text"
        inputMode={props.recovery ? undefined : 'numeric'}
        autocomplete="one-time-code"
        spellcheck={false}
        required
        maxLength={24}
        aria-describedby="code-hint"
      />
      <span class="field__hint" id="code-hint">
        {props.hint}
      </span>
    </div>
  );
}

/** The second step of a sign-in: a code from the authenticator app, or a recovery code. */
export function SignInCodePage(props: { nonce: string; csrfToken: string; email: string; error?: string }) {
  return (
    <PanelPage title="Two-factor authentication" nonce={props.nonce}>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <p class="panel__text">Signing in as {props.email}.</p>
      <form class="dash-form" method="post" action="/dashboard/sign-in/code">
        <CsrfField token={props.csrfToken} />
        <CodeField
          label="Authentication code"
          hint="The 6-digit code from your authenticator app, or one of your recovery codes."
          recovery
        />
        <button class="button button--primary" type="submit">
          Verify
        </button>
      </form>
      <p>
        <a href="/dashboard/sign-in">Start again</a>
      </p>
    </PanelPage>
  );
}

export type EnrolmentView = { secret: string; qrDataUrl: string };

function EnrolmentBody(props: {
  action: string;
  csrfToken: string;
  enrolment: EnrolmentView;
  error?: string;
}) {
  return (
    <>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <ol class="dash-list">
        <li>Scan this QR code with an authenticator app (or type the key below into it).</li>
        <li>Enter the 6-digit code the app shows.</li>
      </ol>
      <img
        class="dash-qr"
        src={props.enrolment.qrDataUrl}
        width={200}
        height={200}
        alt="QR code of the two-factor secret for your authenticator app"
      />
      <p>
        Key: <code class="dash-code dash-secret">{props.enrolment.secret}</code>
      </p>
      <form class="dash-form" method="post" action={props.action}>
        <CsrfField token={props.csrfToken} />
        <CodeField label="Authentication code" hint="6 digits, from your authenticator app." />
        <button class="button button--primary" type="submit">
          Turn on two-factor authentication
        </button>
      </form>
    </>
  );
}

/** Enrolment of a person who must have two-factor before the first session (owners). */
export function SignInEnrolPage(props: {
  nonce: string;
  csrfToken: string;
  email: string;
  enrolment: EnrolmentView;
  error?: string;
}) {
  return (
    <PanelPage title="Set up two-factor authentication" nonce={props.nonce}>
      <p class="panel__text">
        Your account ({props.email}) needs two-factor authentication before it can sign in.
      </p>
      <EnrolmentBody
        action="/dashboard/sign-in/enrol"
        csrfToken={props.csrfToken}
        enrolment={props.enrolment}
        error={props.error}
      />
    </PanelPage>
  );
}

function RecoveryCodeList({ codes }: { codes: string[] }) {
  return (
    <>
      <p>
        Each recovery code signs you in once if you lose your authenticator. They are shown only now: store
        them somewhere safe.
      </p>
      <ul class="dash-recovery-codes" aria-label="Recovery codes">
        {codes.map((code) => (
          <li key={code}>
            <code class="dash-code">{code}</code>
          </li>
        ))}
      </ul>
    </>
  );
}

/** After enrolment at sign-in: the recovery codes, once; the session is already made. */
export function SignInRecoveryCodesPage(props: { nonce: string; codes: string[] }) {
  return (
    <PanelPage title="Two-factor authentication is on" nonce={props.nonce}>
      <RecoveryCodeList codes={props.codes} />
      <p>
        <a class="button button--primary" href="/dashboard">
          Continue to the dashboard
        </a>
      </p>
    </PanelPage>
  );
}

/** The signed-in person's two-factor page: enrol, or see the status and make new recovery codes. */
export function TwoFactorPage(props: {
  nonce: string;
  viewer: Viewer;
  enabled: boolean;
  remaining: number;
  enrolment?: EnrolmentView;
  codes?: string[];
  error?: string;
}) {
  return (
    <AppPage title="Two-factor authentication" nonce={props.nonce} viewer={props.viewer} section="account">
      <h1 class="dash-title">Two-factor authentication</h1>
      <section class="dash-card">
        {props.codes ? (
          <>
            <Notice kind="success">Two-factor authentication is on.</Notice>
            <RecoveryCodeList codes={props.codes} />
          </>
        ) : props.enabled ? (
          <>
            {props.error && <Notice kind="error">{props.error}</Notice>}
            <p>Two-factor authentication is on. {props.remaining} of 10 recovery codes are unused.</p>
            <h2 class="dash-card__title">New recovery codes</h2>
            <form class="dash-form" method="post" action="/dashboard/account/two-factor/recovery-codes">
              <CsrfField token={props.viewer.csrfToken} />
              <CodeField label="Authentication code" hint="6 digits; the old recovery codes stop working." />
              <button class="button button--secondary dash-button" type="submit">
                Make new recovery codes
              </button>
            </form>
          </>
        ) : (
          props.enrolment && (
            <EnrolmentBody
              action="/dashboard/account/two-factor"
              csrfToken={props.viewer.csrfToken}
              enrolment={props.enrolment}
              error={props.error}
            />
          )
        )}
      </section>
    </AppPage>
  );
}

/**
 * Step-up: a live action asks for a fresh code. The action's own fields travel as hidden inputs; after the
 * code the browser is sent back (307) to post them again to the action.
 */
export function StepUpPage(props: {
  nonce: string;
  viewer: Viewer;
  then: string;
  fields: [string, string][];
  error?: string;
}) {
  return (
    <AppPage title="Confirm with your code" nonce={props.nonce} viewer={props.viewer} section="account">
      <h1 class="dash-title">Confirm with your code</h1>
      <section class="dash-card">
        {props.error && <Notice kind="error">{props.error}</Notice>}
        <p>This is a live-mode action. Enter a code from your authenticator app to go on.</p>
        <form
          class="dash-form"
          method="post"
          action={`/dashboard/step-up?then=${encodeURIComponent(props.then)}`}
        >
          {props.fields.map(([name, value]) => (
            <input key={name} type="hidden" name={name} value={value} />
          ))}
          <CodeField
            name={STEP_UP_FIELD}
            label="Authentication code"
            hint="6 digits, from your authenticator app."
          />
          <button class="button button--primary dash-button" type="submit">
            Confirm
          </button>
        </form>
      </section>
    </AppPage>
  );
}
