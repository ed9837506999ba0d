import { AppPage, CsrfField, Notice, type Viewer, Feedback } from '../layout.tsx';
import { NewPasswordField } from './new-password-field.tsx';

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
      <Feedback notice={props.notice} error={props.error} />
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
          <NewPasswordField name="new_password" label="New password" />
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
