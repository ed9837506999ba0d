import { CsrfField, Notice, PanelPage } from '../layout.tsx';

export function SignInPage(props: {
  nonce: string;
  csrfToken: string;
  email?: string;
  error?: string;
  notice?: string;
}) {
  return (
    <PanelPage title="Sign in" heading="Sign in to Kassa" nonce={props.nonce}>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      {props.notice && <Notice kind="info">{props.notice}</Notice>}
      <form class="dash-form" method="post" action="/dashboard/sign-in">
        <CsrfField token={props.csrfToken} />
        <div class="field">
          <label class="field__label" for="email">
            Email
          </label>
          <input
            class="field__input"
            id="email"
            name="email"
            type="email"
            autocomplete="username"
            required
            value={props.email ?? ''}
          />
        </div>
        <div class="field">
          <label class="field__label" for="password">
            Password
          </label>
          <input
            class="field__input"
            id="password"
            name="password"
            type="password"
            autocomplete="current-password"
            required
          />
        </div>
        <button class="button button--primary" type="submit">
          Sign in
        </button>
      </form>
    </PanelPage>
  );
}

export function ErrorPage(props: { nonce: string; title: string; message: string; signedIn: boolean }) {
  return (
    <PanelPage title={props.title} nonce={props.nonce}>
      <p class="panel__text">{props.message}</p>
      <p>
        <a href={props.signedIn ? '/dashboard' : '/dashboard/sign-in'}>
          {props.signedIn ? 'Back to the dashboard' : 'Sign in'}
        </a>
      </p>
    </PanelPage>
  );
}
