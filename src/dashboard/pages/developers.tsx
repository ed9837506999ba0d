import type { StoredApiKey } from '../../modules/merchants/credential.repository.ts';
import { ActionButton, AppPage, type Viewer, Feedback } from '../layout.tsx';
import {
  CredentialNameField,
  HashedSecretShownOnce,
  ScopeCheckboxes,
  scopesText,
} from './credential-parts.tsx';
import { dateTime } from './format.ts';
import { CreateFormCard, ListTable } from './list-page.tsx';

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
      <Feedback notice={props.notice} error={props.error} />
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
        <ListTable
          headings={['Key', 'Type and scopes', 'Created', props.canWrite && 'Actions']}
          rowCount={props.keys.length}
          emptyText="No API keys."
        >
          {props.keys.map((key) => (
            <tr key={key.id}>
              <td>
                <span class="dash-code">{key.keyHint}</span>
                {key.name && <div>{key.name}</div>}
                <div class="dash-muted dash-code">{key.id}</div>
              </td>
              <td>
                {key.type} · {scopesText(key.scopes)}
                {key.expiresAt && <div class="dash-muted">Rolled: works until {dateTime(key.expiresAt)}</div>}
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
        </ListTable>
      </section>
      {props.canWrite && (
        <CreateFormCard
          title="Create an API key"
          action="/dashboard/developers/api-keys"
          csrfToken={viewer.csrfToken}
          formKey={props.formKey}
          submitLabel="Create key"
        >
          <CredentialNameField id="key-name" />
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
        </CreateFormCard>
      )}
    </AppPage>
  );
}
