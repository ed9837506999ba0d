import { ROLES, type Role } from '../../modules/users/permissions.ts';
import type { Invitation } from '../../modules/users/team.ts';
import type { DashboardUser } from '../../modules/users/users.ts';
import { ActionButton, AppPage, CsrfField, Notice, PanelPage, type Viewer, Feedback } from '../layout.tsx';
import { NewPasswordField } from './new-password-field.tsx';
import { dateTime } from './format.ts';
import { CreateFormCard, ListTable } from './list-page.tsx';

/** What the answer to an owner's action shows once: an invitation link or a generated password. */
export type TeamReveal =
  | { kind: 'invitation'; email: string; link: string; expiresAt: Date }
  | { kind: 'password'; email: string; password: string };

function RoleSelect(props: { id: string; selected?: Role; label: string; hiddenLabel?: boolean }) {
  return (
    <>
      <label class={props.hiddenLabel ? 'visually-hidden' : 'field__label'} for={props.id}>
        {props.label}
      </label>
      <select class="field__input" id={props.id} name="role">
        {ROLES.map((role) => (
          <option key={role} value={role} selected={role === props.selected}>
            {role}
          </option>
        ))}
      </select>
    </>
  );
}

export function TeamPage(props: {
  nonce: string;
  viewer: Viewer;
  selfId: string;
  members: DashboardUser[];
  invitations: Invitation[];
  canManage: boolean;
  formKey: string;
  reveal?: TeamReveal;
  notice?: string;
  error?: string;
}) {
  const { viewer } = props;
  const post = (action: string, label: string, member: DashboardUser) => (
    <ActionButton action={action} csrfToken={viewer.csrfToken} label={label} hiddenLabel={member.email} />
  );
  return (
    <AppPage title="Team" nonce={props.nonce} viewer={viewer} section="team">
      <h1 class="dash-title">Team</h1>
      <Feedback notice={props.notice} error={props.error} />
      {props.reveal && (
        <section class="dash-card dash-secret" aria-labelledby="reveal-title">
          {props.reveal.kind === 'invitation' ? (
            <>
              <h2 class="dash-card__title" id="reveal-title">
                Invitation link for {props.reveal.email}
              </h2>
              <p>
                Copy it now and send it to them: it is shown only once, works once, and expires{' '}
                {dateTime(props.reveal.expiresAt)}.
              </p>
              <p>
                <code class="dash-code dash-secret__value" id="invitation-link">
                  {props.reveal.link}
                </code>
              </p>
            </>
          ) : (
            <>
              <h2 class="dash-card__title" id="reveal-title">
                New password for {props.reveal.email}
              </h2>
              <p>Shown only once. Their sessions were signed out; ask them to change it after signing in.</p>
              <p>
                <code class="dash-code dash-secret__value">{props.reveal.password}</code>
              </p>
            </>
          )}
        </section>
      )}
      <section class="dash-card">
        <h2 class="dash-card__title">People</h2>
        <ListTable
          headings={['Email', 'Role', 'Two-factor', 'Last sign-in', props.canManage && 'Actions']}
          rowCount={props.members.length}
        >
          {props.members.map((member) => (
            <tr key={member.id}>
              <td>
                {member.email}
                {member.id === props.selfId && <span class="dash-muted"> (you)</span>}
              </td>
              <td>
                {props.canManage ? (
                  <form
                    class="dash-inline-form"
                    method="post"
                    action={`/dashboard/team/members/${member.id}/role`}
                  >
                    <CsrfField token={viewer.csrfToken} />
                    <RoleSelect
                      id={`role-${member.id}`}
                      selected={member.role}
                      label={`Role of ${member.email}`}
                      hiddenLabel
                    />
                    <button class="button button--secondary dash-button" type="submit">
                      Change role <span class="visually-hidden">of {member.email}</span>
                    </button>
                  </form>
                ) : (
                  <span class="badge">{member.role}</span>
                )}
              </td>
              <td>{member.totpEnabled ? 'On' : 'Off'}</td>
              <td>{member.lastSignInAt ? dateTime(member.lastSignInAt) : 'Never'}</td>
              {props.canManage && (
                <td>
                  {member.id !== props.selfId && (
                    <div class="dash-row-actions">
                      {post(`/dashboard/team/members/${member.id}/reset-password`, 'Reset password', member)}
                      {post(`/dashboard/team/members/${member.id}/remove`, 'Remove', member)}
                    </div>
                  )}
                </td>
              )}
            </tr>
          ))}
        </ListTable>
      </section>
      <section class="dash-card">
        <h2 class="dash-card__title">Open invitations</h2>
        <ListTable
          headings={['Email', 'Role', 'Expires', props.canManage && 'Actions']}
          rowCount={props.invitations.length}
          emptyText="No open invitations."
        >
          {props.invitations.map((invitation) => (
            <tr key={invitation.id}>
              <td>{invitation.email}</td>
              <td>{invitation.role}</td>
              <td>{dateTime(invitation.expiresAt)}</td>
              {props.canManage && (
                <td>
                  <form method="post" action={`/dashboard/team/invitations/${invitation.id}/revoke`}>
                    <CsrfField token={viewer.csrfToken} />
                    <button class="button button--secondary dash-button" type="submit">
                      Revoke <span class="visually-hidden">the invitation of {invitation.email}</span>
                    </button>
                  </form>
                </td>
              )}
            </tr>
          ))}
        </ListTable>
      </section>
      {props.canManage && (
        <CreateFormCard
          title="Invite someone"
          action="/dashboard/team/invitations"
          csrfToken={viewer.csrfToken}
          formKey={props.formKey}
          submitLabel="Create invitation link"
        >
          <div class="field">
            <label class="field__label" for="invite-email">
              Email
            </label>
            <input class="field__input" id="invite-email" name="email" type="email" required />
          </div>
          <div class="field">
            <RoleSelect id="invite-role" selected="viewer" label="Role" />
          </div>
        </CreateFormCard>
      )}
    </AppPage>
  );
}

/** The page an invitation link opens: choose a password and sign in. */
export function InvitationPage(props: {
  nonce: string;
  csrfToken: string;
  token: string;
  email: string;
  role: Role;
  merchantName: string;
  error?: string;
}) {
  return (
    <PanelPage title="Join the team" heading={`Join ${props.merchantName} on Kassa`} nonce={props.nonce}>
      {props.error && <Notice kind="error">{props.error}</Notice>}
      <p class="panel__text">
        You are invited as {props.role} with the address {props.email}. Choose a password to sign in.
      </p>
      <form class="dash-form" method="post" action={`/dashboard/invitations/${props.token}`}>
        <CsrfField token={props.csrfToken} />
        <input type="hidden" name="username" value={props.email} autocomplete="username" />
        <NewPasswordField name="password" label="Password" />
        <button class="button button--primary" type="submit">
          Join and sign in
        </button>
      </form>
    </PanelPage>
  );
}
