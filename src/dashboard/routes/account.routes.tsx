import { createCspNonce } from '../../http/pages/page-security.ts';
import { passwordMatches, setPassword, UserInputError } from '../../modules/users/users.ts';
import { formText, NATURAL_POST, noticeOf, PAGE } from '../kit.tsx';
import { AccountPage } from '../pages/account.tsx';
import { createSession } from '../sessions.ts';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

const NOTICES: Record<string, string> = {
  password_changed: 'Your password was changed; your other sessions were signed out.',
};

/** The signed-in person's own account: changing the password. */
export function registerAccountRoutes(scope: KassaApp, kit: DashboardKit) {
  const { db, clock, send, sendPage, auditPerson, pageContext, actionContext, sessionCookie } = kit;

  scope.get('/dashboard/account', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const context = await pageContext(request, reply);
    if (!context) return reply;
    return sendPage(reply, 200, (nonce) => (
      <AccountPage
        nonce={nonce}
        viewer={context.viewer}
        notice={noticeOf(request, NOTICES)}
        passwordChangeRequired={context.session.user.passwordChangeRequired}
      />
    ));
  });

  scope.post(
    '/dashboard/account/password',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      const now = clock.now();
      const nonce = createCspNonce();
      const refuse = (error: string) =>
        send(
          reply,
          422,
          nonce,
          <AccountPage
            nonce={nonce}
            viewer={context.viewer}
            error={error}
            passwordChangeRequired={context.session.user.passwordChangeRequired}
          />,
        );
      if (!(await passwordMatches(db, context.session.user.id, formText(request, 'current_password'))))
        return refuse('The current password is not correct.');
      // A reset password was seen by the owner who made it: keeping it would defeat the change.
      if (await passwordMatches(db, context.session.user.id, formText(request, 'new_password')))
        return refuse('Choose a new password different from the current one.');
      try {
        // Revokes every session of the person, this one included; this browser gets a new one.
        await setPassword(db, context.session.user.id, formText(request, 'new_password'), now);
      } catch (error) {
        if (error instanceof UserInputError) return refuse(error.message);
        throw error;
      }
      const secret = await createSession(db, {
        userId: context.session.user.id,
        clientAddress: request.ip,
        userAgent: request.headers['user-agent'],
        now,
      });
      await auditPerson(request, context.session.user, 'user.password_changed');
      return reply
        .code(303)
        .header('set-cookie', sessionCookie(secret))
        .header('location', '/dashboard/account?notice=password_changed')
        .send();
    },
  );
}
