import { MIN_PASSWORD_LENGTH } from '../../modules/users/users.ts';

/**
 * The field where someone chooses a password (the Account page, an invitation): one place states the minimum
 * length, both to the browser (`minLength`) and in the hint a screen reader reads with the field.
 */
export function NewPasswordField(props: { name: string; label: string }) {
  return (
    <div class="field">
      <label class="field__label" for="new_password">
        {props.label}
      </label>
      <input
        class="field__input"
        id="new_password"
        name={props.name}
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
  );
}
