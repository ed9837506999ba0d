import { AppPage, CsrfField, Notice, type Viewer } from '../layout.tsx';
import { MIN_PASSWORD_LENGTH } from '../../modules/users/users.ts';

export function AccountPage(props: {
  nonce: string;
  viewer: Viewer;
  error?: string;
  notice?: string;
  passwordChangeRequired?: boolean;
}) {
  return (
    <AppPage title="Account" nonce={props.nonce} viewer={props.viewer} section="account">
      <h1 class="dash-title">Account</h1>
      {props.passwordChangeRequired && (
        <Notice kind="error">
          An owner reset your password. Choose a new password of your own before using the dashboard.
        </Notice>
      )}
      {props.notice && <Notice kind="success">{props.notice}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <section class="dash-card">
        <h2 class="dash-card__title">Change password</h2>
        <p class="dash-muted">Changing your password signs you out everywhere else.</p>
        <form class="dash-form" method="post" action="/dashboard/account/password">
          <CsrfField token={props.viewer.csrfToken} />
          <div class="field">
            <label class="field__label" for="current_password">
              Current password
            </label>
            <input
              class="field__input"
              id="current_password"
              name="current_password"
              type="password"
              autocomplete="current-password"
              required
            />
          </div>
          <div class="field">
            <label class="field__label" for="new_password">
              New password
            </label>
            <input
              class="field__input"
              id="new_password"
              name="new_password"
              type="password"
              autocomplete="new-password"
              minLength={MIN_PASSWORD_LENGTH}
              required
              aria-describedby="new-password-hint"
            />
            <span class="field__hint" id="new-password-hint">
              At least {MIN_PASSWORD_LENGTH} characters.
            </span>
          </div>
          <button class="button button--primary dash-button" type="submit">
            Change password
          </button>
        </form>
      </section>
      <section class="dash-card">
        <h2 class="dash-card__title">Two-factor authentication</h2>
        <p>
          <a class="dash-link" href="/dashboard/account/two-factor">
            Two-factor authentication and recovery codes
          </a>
        </p>
      </section>
      <section class="dash-card">
        <h2 class="dash-card__title">Sessions</h2>
        <form method="post" action="/dashboard/sign-out-everywhere">
          <CsrfField token={props.viewer.csrfToken} />
          <button class="button button--secondary dash-button" type="submit">
            Sign out everywhere
          </button>
        </form>
      </section>
    </AppPage>
  );
}
