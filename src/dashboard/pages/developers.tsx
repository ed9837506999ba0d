import type { StoredApiKey } from '../../modules/merchants/credential.repository.ts';
import { ActionButton, AppPage, CsrfField, FORM_KEY_FIELD, Notice, type Viewer } from '../layout.tsx';
import { HashedSecretShownOnce, ScopeCheckboxes, scopesText } from './credential-parts.tsx';
import { dateTime } from './format.ts';

export type RevealedKey = { id: string; secret: string; previousId?: string; previousExpiresAt?: Date };

export function DevelopersPage(props: {
  nonce: string;
  viewer: Viewer;
  keys: StoredApiKey[];
  canWrite: boolean;
  formKey: string;
  revealed?: RevealedKey;
  notice?: string;
  error?: string;
}) {
  const { viewer } = props;
  return (
    <AppPage title="Developers" nonce={props.nonce} viewer={viewer} section="developers">
      <h1 class="dash-title">Developers</h1>
      <p class="dash-row-actions">
        <a class="dash-link" href="/dashboard/developers/oauth-clients">
          OAuth clients
        </a>
        <a class="dash-link" href="/dashboard/webhooks">
          Webhooks
        </a>
        <a class="dash-link" href="/dashboard/events">
          Events
        </a>
      </p>
      {props.notice && <Notice kind="success">{props.notice}</Notice>}
      {props.error && <Notice kind="error">{props.error}</Notice>}
      {props.revealed && (
        <HashedSecretShownOnce title={`New API key ${props.revealed.id}`} secret={props.revealed.secret}>
          {props.revealed.previousId && props.revealed.previousExpiresAt && (
            <p class="dash-muted">
              The key it replaces ({props.revealed.previousId}) keeps working until{' '}
              {dateTime(props.revealed.previousExpiresAt)}.
            </p>
          )}
        </HashedSecretShownOnce>
      )}
      <section class="dash-card">
        <h2 class="dash-card__title">API keys ({viewer.livemode ? 'live' : 'test'} mode)</h2>
        {props.keys.length === 0 ? (
          <p class="dash-muted">No API keys.</p>
        ) : (
          <div class="dash-table-wrap">
            <table class="dash-table">
              <thead>
                <tr>
                  <th scope="col">Key</th>
                  <th scope="col">Type and scopes</th>
                  <th scope="col">Created</th>
                  {props.canWrite && <th scope="col">Actions</th>}
                </tr>
              </thead>
              <tbody>
                {props.keys.map((key) => (
                  <tr key={key.id}>
                    <td>
                      <span class="dash-code">{key.keyHint}</span>
                      {key.name && <div>{key.name}</div>}
                      <div class="dash-muted dash-code">{key.id}</div>
                    </td>
                    <td>
                      {key.type} · {scopesText(key.scopes)}
                      {key.expiresAt && (
                        <div class="dash-muted">Rolled: works until {dateTime(key.expiresAt)}</div>
                      )}
                    </td>
                    <td>{dateTime(key.createdAt)}</td>
                    {props.canWrite && (
                      <td>
                        <div class="dash-row-actions">
                          {!key.expiresAt && (
                            <ActionButton
                              action={`/dashboard/developers/api-keys/${key.id}/roll`}
                              csrfToken={viewer.csrfToken}
                              label="Roll"
                              hiddenLabel={key.keyHint}
                            />
                          )}
                          <ActionButton
                            action={`/dashboard/developers/api-keys/${key.id}/revoke`}
                            csrfToken={viewer.csrfToken}
                            label="Revoke"
                            hiddenLabel={key.keyHint}
                          />
                        </div>
                      </td>
                    )}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      {props.canWrite && (
        <section class="dash-card">
          <h2 class="dash-card__title">Create an API key</h2>
          <form class="dash-form" method="post" action="/dashboard/developers/api-keys">
            <CsrfField token={viewer.csrfToken} />
            <input type="hidden" name={FORM_KEY_FIELD} value={props.formKey} />
            <div class="field">
              <label class="field__label" for="key-name">
                Name
              </label>
              <input class="field__input" id="key-name" name="name" maxLength={100} />
            </div>
            <fieldset class="field">
              <legend class="field__label">Type</legend>
              <label class="checkbox">
                <input class="checkbox__input" type="radio" name="type" value="restricted" checked />{' '}
                Restricted: only the scopes chosen below
              </label>
              <label class="checkbox">
                <input class="checkbox__input" type="radio" name="type" value="secret" /> Secret: every scope
              </label>
            </fieldset>
            <fieldset class="field">
              <legend class="field__label">Scopes of a restricted key</legend>
              <ScopeCheckboxes />
            </fieldset>
            <button class="button button--primary dash-button" type="submit">
              Create key
            </button>
          </form>
        </section>
      )}
    </AppPage>
  );
}
