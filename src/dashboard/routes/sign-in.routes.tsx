import { verifySignIn } from '../../modules/users/users.ts';
import { createCspNonce } from '../../http/pages/page-security.ts';
import { formText, NATURAL_POST, PAGE, queryText, SYSTEM_ACTOR } from '../kit.tsx';
import { CSRF_FIELD } from '../layout.tsx';
import { SignInPage } from '../pages/sign-in.tsx';
import { continueAfterPassword } from '../second-step.ts';
import {
  csrfBinding,
  dashboardCsrfValid,
  issueDashboardCsrf,
  newSessionSecret,
  readCookie,
  revokeAllSessions,
  revokeSession,
  serializeCookie,
} from '../sessions.ts';
import type { KassaApp } from '../../http/http.types.ts';
import type { DashboardKit } from '../kit.tsx';

/** Signing in and out: the sign-in form, its throttles and lock-out, and ending one or every session. */
export function registerSignInRoutes(scope: KassaApp, kit: DashboardKit) {
  const {
    db,
    keyring,
    clock,
    cookies,
    send,
    seeOther,
    audit,
    auditAction,
    auditPerson,
    auditLocked,
    sessionOf,
    actionContext,
  } = kit;

  scope.get('/dashboard/sign-in', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    if (await sessionOf(request)) return seeOther(reply, '/dashboard');
    const signInId = readCookie(request.headers.cookie, cookies.signIn) ?? newSessionSecret();
    const nonce = createCspNonce();
    reply.header('set-cookie', serializeCookie(cookies, cookies.signIn, signInId));
    const csrfToken = issueDashboardCsrf(keyring, csrfBinding('sign_in', signInId), clock.now());
    const notice = queryText(request, 'signed_out') ? 'You are signed out.' : undefined;
    const again = queryText(request, 'again');
    const error =
      again === 'locked'
        ? 'This account is locked after too many failed sign-ins. Try again in 30 minutes.'
        : again === 'second_factor'
          ? 'Too many wrong codes, or the sign-in took too long. Sign in again.'
          : undefined;
    return send(
      reply,
      200,
      nonce,
      <SignInPage nonce={nonce} csrfToken={csrfToken} notice={notice} error={error} />,
    );
  });

  scope.post(
    '/dashboard/sign-in',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const now = clock.now();
      const nonce = createCspNonce();
      const signInId = readCookie(request.headers.cookie, cookies.signIn);
      const email = formText(request, 'email').slice(0, 320);
      const password = formText(request, 'password');
      const again = (statusCode: number, error: string) => {
        const id = signInId ?? newSessionSecret();
        reply.header('set-cookie', serializeCookie(cookies, cookies.signIn, id));
        const csrfToken = issueDashboardCsrf(keyring, csrfBinding('sign_in', id), now);
        return send(
          reply,
          statusCode,
          nonce,
          <SignInPage nonce={nonce} csrfToken={csrfToken} email={email} error={error} />,
        );
      };
      if (
        !signInId ||
        !dashboardCsrfValid(keyring, csrfBinding('sign_in', signInId), formText(request, CSRF_FIELD), now)
      ) {
        return again(403, 'The sign-in form expired. Please sign in again.');
      }
      const result = await verifySignIn(db, { email, password, clientAddress: request.ip, now });
      if (result.outcome === 'address_limited') {
        await audit(request, {
          merchantId: null,
          actor: SYSTEM_ACTOR,
          action: 'user.sign_in_refused_address',
          details: { email },
        });
        return again(429, 'Too many failed sign-ins from your network. Try again in 15 minutes.');
      }
      if (result.outcome === 'locked') {
        await auditPerson(request, result.user, 'user.sign_in_refused_locked');
        return again(423, 'This account is locked after too many failed sign-ins. Try again in 30 minutes.');
      }
      if (result.outcome === 'invalid') {
        if (result.user) await auditPerson(request, result.user, 'user.sign_in_failed');
        else
          await audit(request, {
            merchantId: null,
            actor: SYSTEM_ACTOR,
            action: 'user.sign_in_failed',
            objectType: 'dashboard_user',
            details: { email },
          });
        if (result.lockedNow && result.user) await auditLocked(request, result.user);
        return again(401, 'The email or password is not correct.');
      }
      // The session, or first the second factor (docs/security.md, "Dashboard two-factor authentication").
      await continueAfterPassword(kit, request, reply, result.user);
      return reply;
    },
  );

  scope.post(
    '/dashboard/sign-out',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      await revokeSession(db, context.session.idHash, clock.now());
      await auditAction(request, context, {
        action: 'user.signed_out',
      });
      return reply
        .code(303)
        .header('set-cookie', serializeCookie(cookies, cookies.session, '', { maxAgeSeconds: 0 }))
        .header('location', '/dashboard/sign-in?signed_out=1')
        .send();
    },
  );

  scope.post(
    '/dashboard/sign-out-everywhere',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      const revoked = await revokeAllSessions(db, context.session.user.id, clock.now());
      await auditAction(request, context, {
        action: 'user.signed_out_everywhere',
        details: { sessions: revoked },
      });
      return reply
        .code(303)
        .header('set-cookie', serializeCookie(cookies, cookies.session, '', { maxAgeSeconds: 0 }))
        .header('location', '/dashboard/sign-in?signed_out=1')
        .send();
    },
  );
}
