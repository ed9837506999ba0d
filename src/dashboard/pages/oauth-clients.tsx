import type { StoredApiClient } from '../../modules/merchants/credential.repository.ts';
import { ActionButton, AppPage, CsrfField, FORM_KEY_FIELD, type Viewer, Feedback } from '../layout.tsx';
import {
  CredentialNameField,
  HashedSecretShownOnce,
  ScopeCheckboxes,
  scopesText,
} from './credential-parts.tsx';
import { dateTime } from './format.ts';
import { CreateFormCard, ListTable } from './list-page.tsx';

export type RevealedClientSecret = { id: string; secret: string; previousExpiresAt?: Date };

export const CLIENT_OVERLAP_CHOICES: readonly { seconds: number; label: string }[] = [
  { seconds: 86_400, label: '24 hours' },
  { seconds: 3_600, label: '1 hour' },
  { seconds: 0, label: 'No overlap' },
];

export function OAuthClientsPage(props: {
  nonce: string;
  viewer: Viewer;
  clients: StoredApiClient[];
  canWrite: boolean;
  formKeys: { create: string; roll: Record<string, string> };
  now: Date;
  revealed?: RevealedClientSecret;
  notice?: string;
  error?: string;
}) {
  const { viewer } = props;
  return (
    <AppPage title="OAuth clients" nonce={props.nonce} viewer={viewer} section="developers">
      <p>
        <a class="dash-link" href="/dashboard/developers">
          API keys
        </a>
      </p>
      <h1 class="dash-title">OAuth clients</h1>
      <Feedback notice={props.notice} error={props.error} />
      {props.revealed && (
        <HashedSecretShownOnce title={`Client secret of ${props.revealed.id}`} secret={props.revealed.secret}>
          {props.revealed.previousExpiresAt && (
            <p class="dash-muted">
              The previous secret keeps working until {dateTime(props.revealed.previousExpiresAt)}.
            </p>
          )}
        </HashedSecretShownOnce>
      )}
      <section class="dash-card">
        <h2 class="dash-card__title">Clients ({viewer.livemode ? 'live' : 'test'} mode)</h2>
        <p class="dash-muted">
          A client exchanges its id and secret for short-lived access tokens at{' '}
          <code class="dash-code">POST /v1/oauth/tokens</code>.
        </p>
        <ListTable
          headings={['Client', 'Scopes', 'Last used', props.canWrite && 'Actions']}
          rowCount={props.clients.length}
          emptyText="No OAuth clients."
        >
          {props.clients.map((client) => (
            <tr key={client.id}>
              <td>
                <span class="dash-code">{client.id}</span>
                {client.name && <div>{client.name}</div>}
                {client.secretHint && <div class="dash-muted dash-code">secret …{client.secretHint}</div>}
                {client.previousSecretExpiresAt && client.previousSecretExpiresAt > props.now && (
                  <div class="dash-muted">
                    Previous secret works until {dateTime(client.previousSecretExpiresAt)}
                  </div>
                )}
              </td>
              <td>{scopesText(client.scopes)}</td>
              <td>{client.lastUsedAt ? dateTime(client.lastUsedAt) : 'never'}</td>
              {props.canWrite && (
                <td>
                  <div class="dash-row-actions">
                    <form method="post" action={`/dashboard/developers/oauth-clients/${client.id}/roll`}>
                      <CsrfField token={viewer.csrfToken} />
                      <input type="hidden" name={FORM_KEY_FIELD} value={props.formKeys.roll[client.id]} />
                      <label class="visually-hidden" for={`overlap-${client.id}`}>
                        Previous secret of {client.id} works for
                      </label>
                      <select class="field__input" id={`overlap-${client.id}`} name="overlap">
                        {CLIENT_OVERLAP_CHOICES.map((choice) => (
                          <option key={choice.seconds} value={String(choice.seconds)}>
                            {choice.label}
                          </option>
                        ))}
                      </select>
                      <button class="button button--secondary dash-button" type="submit">
                        Roll secret <span class="visually-hidden">of {client.id}</span>
                      </button>
                    </form>
                    <ActionButton
                      action={`/dashboard/developers/oauth-clients/${client.id}/revoke`}
                      csrfToken={viewer.csrfToken}
                      label="Revoke"
                      hiddenLabel={client.id}
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
          title="Create an OAuth client"
          action="/dashboard/developers/oauth-clients"
          csrfToken={viewer.csrfToken}
          formKey={props.formKeys.create}
          submitLabel="Create client"
        >
          <CredentialNameField id="client-name" />
          <fieldset class="field">
            <legend class="field__label">
              Scopes its tokens may carry (none ticked: the scopes of your role)
            </legend>
            <ScopeCheckboxes />
          </fieldset>
        </CreateFormCard>
      )}
    </AppPage>
  );
}
