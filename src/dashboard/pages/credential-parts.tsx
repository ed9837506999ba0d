import type { ComponentChildren } from 'preact';
import { RESOURCE_SCOPES } from '../../modules/auth/scopes.ts';

/**
 * What the API-key and OAuth-client pages share, both being credentials that carry scopes and whose secret is
 * hashed: the card that shows a new secret once, and the scopes a new one may carry.
 */

/** A secret made just now, shown in this answer only: Kassa keeps its hash, never the secret. */
export function HashedSecretShownOnce(props: {
  title: string;
  secret: string;
  children?: ComponentChildren;
}) {
  return (
    <section class="dash-card dash-secret" aria-labelledby="secret-title">
      <h2 class="dash-card__title" id="secret-title">
        {props.title}
      </h2>
      <p>Copy it now: it is shown only once. Kassa keeps only its hash.</p>
      <p>
        <code class="dash-code dash-secret__value">{props.secret}</code>
      </p>
      {props.children}
    </section>
  );
}

/** A credential's scopes as a line of text; `null` is a key or client that carries every scope. */
export function scopesText(scopes: readonly string[] | null): string {
  return scopes === null ? 'every scope' : scopes.join(' ');
}

/** One checkbox per scope (each resource's write scope, then its read scope), none ticked. */
export function ScopeCheckboxes() {
  return (
    <div class="dash-scopes">
      {RESOURCE_SCOPES.flatMap((resource) => [resource, `${resource}:read`]).map((scope) => (
        <label class="checkbox" key={scope}>
          <input class="checkbox__input" type="checkbox" name="scopes" value={scope} /> {scope}
        </label>
      ))}
    </div>
  );
}

/** The optional name of a new API key or OAuth client (the routes keep its first 100 characters). */
export function CredentialNameField(props: { id: string }) {
  return (
    <div class="field">
      <label class="field__label" for={props.id}>
        Name
      </label>
      <input class="field__input" id={props.id} name="name" maxLength={100} />
    </div>
  );
}
