import type { FastifyRequest } from 'fastify';
import { createCspNonce } from '../../http/pages/page-security.ts';
import type { KassaApp } from '../../http/http.types.ts';
import { pooledRandomHex } from '../../lib/random.ts';
import { findMerchantById } from '../../modules/merchants/merchant.repository.ts';
import { roleManagesTeam, roleSeesTeam } from '../../modules/users/permissions.ts';
import {
  acceptInvitation,
  changeRole,
  createInvitation,
  findOpenInvitation,
  listOpenInvitations,
  removeMember,
  resetMemberPassword,
  revokeInvitation,
} from '../../modules/users/team.ts';
import { listUsers, UserInputError } from '../../modules/users/users.ts';
import {
  DashboardRefusal,
  formKeyOf,
  formText,
  NATURAL_POST,
  noticeOf,
  PAGE,
  queryText,
  TRANSACTIONAL_POST,
  type Context,
  type DashboardKit,
} from '../kit.tsx';
import { CSRF_FIELD } from '../layout.tsx';
import { ErrorPage } from '../pages/sign-in.tsx';
import { InvitationPage, TeamPage, type TeamReveal } from '../pages/team.tsx';
import { continueAfterPassword } from '../second-step.ts';
import {
  csrfBinding,
  dashboardCsrfValid,
  issueDashboardCsrf,
  newSessionSecret,
  readCookie,
  serializeCookie,
} from '../sessions.ts';

const NOTICES: Record<string, string> = {
  role_changed: 'The role was changed; their sessions were signed out.',
  removed: 'The person was removed and signed out everywhere.',
  invitation_revoked: 'The invitation was revoked; its link no longer works.',
  invitation_exists:
    'That invitation was already created (its link was shown then). Revoke it and invite again if the link was lost.',
};

/**
 * The Team page: people with their role and two-factor status, and invitations by one-time link. Roles
 * holding `users:read` see it (owners, viewers); only `users` (owners) changes anything — both checked here on
 * the server, for every page and form, whatever the navigation showed (src/modules/users/permissions.ts).
 */
export function registerTeamRoutes(scope: KassaApp, kit: DashboardKit) {
  const {
    db,
    keyring,
    clock,
    cookies,
    send,
    sendPage,
    auditAction,
    auditPerson,
    pageContext,
    actionContext,
  } = kit;

  function requireTeamView(context: Context) {
    if (!roleSeesTeam(context.session.user.role))
      throw new DashboardRefusal(
        403,
        'Not allowed',
        `Your role (${context.session.user.role}) may not see the team (it needs users:read).`,
      );
  }

  function requireOwner(context: Context) {
    if (!roleManagesTeam(context.session.user.role))
      throw new DashboardRefusal(
        403,
        'Not allowed',
        `Your role (${context.session.user.role}) may not change the team; only owners may.`,
      );
  }

  async function teamPage(
    request: FastifyRequest,
    context: Context,
    extra: { reveal?: TeamReveal; error?: string; status?: number } = {},
  ) {
    const nonce = createCspNonce();
    const [members, invitations] = await Promise.all([
      listUsers(db, context.scope.merchantId),
      listOpenInvitations(db, context.scope.merchantId, clock.now()),
    ]);
    return {
      status: extra.status ?? 200,
      nonce,
      page: (
        <TeamPage
          nonce={nonce}
          viewer={context.viewer}
          selfId={context.session.user.id}
          members={members}
          invitations={invitations}
          canManage={roleManagesTeam(context.session.user.role)}
          formKey={pooledRandomHex(16)}
          reveal={extra.reveal}
          notice={noticeOf(request, NOTICES)}
          error={extra.error}
        />
      ),
    };
  }

  scope.get('/dashboard/team', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const context = await pageContext(request, reply);
    if (!context) return reply;
    requireTeamView(context);
    const answer = await teamPage(request, context);
    return send(reply, answer.status, answer.nonce, answer.page);
  });

  const memberId = (request: FastifyRequest) => (request.params as { id: string }).id;
  const notFound = () => new DashboardRefusal(404, 'Not found', 'There is no such person in this shop.');

  /** An owner's change that a person's rules forbid (the last owner): the Team page with the reason. */
  async function refused(
    request: FastifyRequest,
    reply: Parameters<typeof send>[0],
    context: Context,
    error: unknown,
  ) {
    if (!(error instanceof UserInputError)) throw error;
    const answer = await teamPage(request, context, { error: error.message, status: 422 });
    return send(reply, answer.status, answer.nonce, answer.page);
  }

  scope.post(
    '/dashboard/team/members/:id/role',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      requireOwner(context);
      try {
        const changed = await changeRole(
          db,
          context.scope.merchantId,
          memberId(request),
          formText(request, 'role'),
          clock.now(),
        );
        if (!changed) throw notFound();
        if (changed.from !== changed.to) {
          await auditAction(request, context, {
            action: 'user.role_changed',
            objectType: 'dashboard_user',
            objectId: memberId(request),
            details: { from: changed.from, to: changed.to },
          });
        }
      } catch (error) {
        return refused(request, reply, context, error);
      }
      return kit.seeOther(reply, '/dashboard/team?notice=role_changed');
    },
  );

  scope.post(
    '/dashboard/team/members/:id/remove',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      requireOwner(context);
      if (memberId(request) === context.session.user.id)
        return refused(request, reply, context, new UserInputError('You cannot remove yourself.'));
      try {
        const removed = await removeMember(db, context.scope.merchantId, memberId(request), clock.now());
        // Removed already (a second submit) is what was asked.
        if (removed) {
          await auditAction(request, context, {
            action: 'user.removed',
            objectType: 'dashboard_user',
            objectId: removed.id,
            details: { email: removed.email, role: removed.role },
          });
        }
      } catch (error) {
        return refused(request, reply, context, error);
      }
      return kit.seeOther(reply, '/dashboard/team?notice=removed');
    },
  );

  scope.post(
    '/dashboard/team/members/:id/reset-password',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      requireOwner(context);
      if (memberId(request) === context.session.user.id)
        return refused(
          request,
          reply,
          context,
          new UserInputError('Change your own password on the Account page.'),
        );
      // Sent twice, the second password replaces the first: the page shown (the last answer) is the valid one.
      const reset = await resetMemberPassword(db, context.scope.merchantId, memberId(request), clock.now());
      if (!reset) throw notFound();
      await auditAction(request, context, {
        action: 'user.password_reset',
        objectType: 'dashboard_user',
        objectId: reset.member.id,
      });
      const answer = await teamPage(request, context, {
        reveal: { kind: 'password', email: reset.member.email, password: reset.password },
      });
      reply.header('cache-control', 'no-store');
      return send(reply, answer.status, answer.nonce, answer.page);
    },
  );

  scope.post(
    '/dashboard/team/invitations',
    { config: TRANSACTIONAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      requireOwner(context);
      const formKey = formKeyOf(request);
      let created: Awaited<ReturnType<typeof createInvitation>>;
      try {
        created = await createInvitation(db, {
          merchantId: context.scope.merchantId,
          email: formText(request, 'email').slice(0, 320),
          role: formText(request, 'role'),
          createdBy: context.session.user.id,
          formKey,
          now: clock.now(),
        });
      } catch (error) {
        return refused(request, reply, context, error);
      }
      if (created === 'already_created')
        return kit.seeOther(reply, '/dashboard/team?notice=invitation_exists');
      await auditAction(request, context, {
        action: 'user.invitation_created',
        objectType: 'dashboard_invitation',
        objectId: created.invitation.id,
        details: { email: created.invitation.email, role: created.invitation.role },
      });
      const link = `${kit.services.config.publicUrl.replace(/\/$/, '')}/dashboard/invitations/${created.token}`;
      const answer = await teamPage(request, context, {
        reveal: {
          kind: 'invitation',
          email: created.invitation.email,
          link,
          expiresAt: created.invitation.expiresAt,
        },
      });
      reply.header('cache-control', 'no-store');
      return send(reply, answer.status, answer.nonce, answer.page);
    },
  );

  scope.post(
    '/dashboard/team/invitations/:id/revoke',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      requireOwner(context);
      const revoked = await revokeInvitation(db, context.scope.merchantId, memberId(request), clock.now());
      if (revoked) {
        await auditAction(request, context, {
          action: 'user.invitation_revoked',
          objectType: 'dashboard_invitation',
          objectId: revoked.id,
          details: { email: revoked.email },
        });
      }
      return kit.seeOther(reply, '/dashboard/team?notice=invitation_revoked');
    },
  );

  // The invitee's side: no session yet; the form is bound to the pre-session cookie like the sign-in form.
  const gone = (reply: Parameters<typeof send>[0]) => {
    return sendPage(reply, 410, (nonce) => (
      <ErrorPage
        nonce={nonce}
        title="Invitation not valid"
        message="This invitation link was already used, was revoked or has expired. Ask the shop's owner for a new one."
        signedIn={false}
      />
    ));
  };

  async function invitationForm(
    request: FastifyRequest,
    reply: Parameters<typeof send>[0],
    status: number,
    error?: string,
  ) {
    const token = (request.params as { token: string }).token;
    const invitation = await findOpenInvitation(db, token, clock.now());
    if (!invitation) return gone(reply);
    const merchant = await findMerchantById(db, invitation.merchantId);
    const signInId = readCookie(request.headers.cookie, cookies.signIn) ?? newSessionSecret();
    reply.header('set-cookie', serializeCookie(cookies, cookies.signIn, signInId));
    reply.header('referrer-policy', 'no-referrer');
    return sendPage(reply, status, (nonce) => (
      <InvitationPage
        nonce={nonce}
        csrfToken={issueDashboardCsrf(keyring, csrfBinding('sign_in', signInId), clock.now())}
        token={token}
        email={invitation.email}
        role={invitation.role}
        merchantName={merchant?.displayName ?? merchant?.name ?? 'the shop'}
        error={error}
      />
    ));
  }

  scope.get('/dashboard/invitations/:token', { config: PAGE, schema: { hide: true } }, (request, reply) =>
    invitationForm(
      request,
      reply,
      200,
      queryText(request, 'expired') ? 'The form expired; try again.' : undefined,
    ),
  );

  scope.post(
    '/dashboard/invitations/:token',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const token = (request.params as { token: string }).token;
      const signInId = readCookie(request.headers.cookie, cookies.signIn);
      const now = clock.now();
      if (
        !signInId ||
        !dashboardCsrfValid(keyring, csrfBinding('sign_in', signInId), formText(request, CSRF_FIELD), now)
      )
        return invitationForm(request, reply, 403, 'The form expired. Please try again.');
      let accepted: Awaited<ReturnType<typeof acceptInvitation>>;
      try {
        accepted = await acceptInvitation(db, token, formText(request, 'password'), now);
      } catch (error) {
        if (error instanceof UserInputError) return invitationForm(request, reply, 422, error.message);
        throw error;
      }
      if (!accepted) return gone(reply);
      await auditPerson(request, accepted.user, 'user.invitation_accepted', {
        invitation: accepted.invitation.id,
        role: accepted.user.role,
      });
      await continueAfterPassword(kit, request, reply, accepted.user);
      return reply;
    },
  );
}
