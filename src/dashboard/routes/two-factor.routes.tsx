import type { FastifyReply, FastifyRequest } from 'fastify';
import { renderQrSvg } from '../../modules/payment-links/payment-link.qr.ts';
import {
  acceptCode,
  acceptSecondFactor,
  issueRecoveryCodes,
  pendingEnrolment,
  remainingRecoveryCodes,
  type Enrolment,
} from '../../modules/users/two-factor.ts';
import { countFailedSignIn, recordAddressFailure, type DashboardUser } from '../../modules/users/users.ts';
import type { KassaApp } from '../../http/http.types.ts';
import { formText, NATURAL_POST, PAGE, type Context, type DashboardKit } from '../kit.tsx';
import {
  SignInCodePage,
  SignInEnrolPage,
  SignInRecoveryCodesPage,
  TwoFactorPage,
  type EnrolmentView,
} from '../pages/two-factor.tsx';
import {
  countPendingFailure,
  dropPendingSignIn,
  loadPendingSignIn,
  startSession,
  type PendingSignIn,
} from '../second-step.ts';
import { csrfBinding, dashboardCsrfValid, issueDashboardCsrf, readCookie } from '../sessions.ts';
import { CSRF_FIELD } from '../layout.tsx';

export async function enrolmentView(enrolment: Enrolment): Promise<EnrolmentView> {
  const svg = await renderQrSvg(enrolment.uri);
  return {
    secret: enrolment.secret,
    qrDataUrl: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
  };
}

/**
 * Two-factor authentication: the second step of a sign-in (a code, or the enrolment an owner must do first),
 * and the signed-in person's own enrolment and recovery codes on the Account page.
 */
export function registerTwoFactorRoutes(scope: KassaApp, kit: DashboardKit) {
  const {
    db,
    keyring,
    clock,
    cookies,
    sendPage,
    seeOther,
    auditPerson,
    auditLocked,
    pageContext,
    actionContext,
  } = kit;

  const toSignIn = (reply: FastifyReply, error?: string) =>
    seeOther(reply, `/dashboard/sign-in${error ? `?again=${error}` : ''}`);

  /** The pending sign-in of this browser and the CSRF token of its form; undefined when there is none. */
  async function pendingOf(request: FastifyRequest, step: PendingSignIn['step']) {
    const secret = readCookie(request.headers.cookie, cookies.signIn);
    const pending = await loadPendingSignIn(db, secret, clock.now());
    if (!pending || pending.step !== step || !secret) return undefined;
    const binding = csrfBinding('sign_in', secret);
    return { pending, binding, csrfToken: issueDashboardCsrf(keyring, binding, clock.now()) };
  }

  /** The sign-in a second-step form continues, when its CSRF token is this sign-in's; undefined otherwise. */
  async function pendingFormOf(request: FastifyRequest, step: PendingSignIn['step']) {
    const state = await pendingOf(request, step);
    if (!state || !dashboardCsrfValid(keyring, state.binding, formText(request, CSRF_FIELD), clock.now()))
      return undefined;
    return state;
  }

  /** A wrong second-step code: counts toward the account's lock-out and the address limit, and is audited. */
  async function secondStepFailed(request: FastifyRequest, pending: PendingSignIn) {
    const now = clock.now();
    await recordAddressFailure(db, request.ip, now);
    const counted = await countFailedSignIn(db, pending.user.id, now);
    await auditPerson(request, pending.user, 'user.second_factor_failed', { step: pending.step });
    if (counted.lockedNow) {
      await dropPendingSignIn(db, pending.idHash);
      await auditLocked(request, pending.user);
      return false;
    }
    return countPendingFailure(db, pending.idHash);
  }

  /** Issues a fresh set of recovery codes, audits it as `action` and shows the codes this once (not cached). */
  async function showNewRecoveryCodes(
    request: FastifyRequest,
    reply: FastifyReply,
    context: Context,
    action: 'user.two_factor_enabled' | 'user.recovery_codes_replaced',
  ) {
    const user = context.session.user;
    const codes = await issueRecoveryCodes(db, user.id, clock.now());
    await auditPerson(request, user, action);
    reply.header('cache-control', 'no-store');
    return sendPage(reply, 200, (nonce) => (
      <TwoFactorPage nonce={nonce} viewer={context.viewer} enabled remaining={codes.length} codes={codes} />
    ));
  }

  /**
   * The Account page's two-factor section as it is now (on: the unused recovery codes; off: the enrolment),
   * with `error` when a code was refused.
   */
  async function twoFactorPage(reply: FastifyReply, context: Context, statusCode: number, error?: string) {
    const user = context.session.user;
    const enrolment = user.totpEnabled ? undefined : await pendingEnrolment(db, keyring, user);
    const enrolmentShown = enrolment && (await enrolmentView(enrolment));
    const remaining = await remainingRecoveryCodes(db, user.id);
    return sendPage(reply, statusCode, (nonce) => (
      <TwoFactorPage
        nonce={nonce}
        viewer={context.viewer}
        enabled={user.totpEnabled}
        remaining={remaining}
        enrolment={enrolmentShown}
        error={error}
      />
    ));
  }

  const locked = (user: DashboardUser) => user.lockedUntil !== null && user.lockedUntil > clock.now();

  scope.get('/dashboard/sign-in/code', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const state = await pendingOf(request, 'code');
    if (!state) return toSignIn(reply);
    return sendPage(reply, 200, (nonce) => (
      <SignInCodePage nonce={nonce} csrfToken={state.csrfToken} email={state.pending.user.email} />
    ));
  });

  scope.post(
    '/dashboard/sign-in/code',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const state = await pendingFormOf(request, 'code');
      if (!state) return toSignIn(reply);
      const { pending } = state;
      if (locked(pending.user)) {
        await dropPendingSignIn(db, pending.idHash);
        return toSignIn(reply, 'locked');
      }
      const used = await acceptSecondFactor(
        db,
        keyring,
        pending.user.id,
        formText(request, 'code'),
        clock.now(),
      );
      if (!used) {
        if (!(await secondStepFailed(request, pending))) return toSignIn(reply, 'second_factor');
        return sendPage(reply, 401, (nonce) => (
          <SignInCodePage
            nonce={nonce}
            csrfToken={state.csrfToken}
            email={pending.user.email}
            error="That code is not valid (or was already used). Try the next one."
          />
        ));
      }
      await dropPendingSignIn(db, pending.idHash);
      if (used === 'recovery_code') {
        await auditPerson(request, pending.user, 'user.recovery_code_used', {
          remaining: await remainingRecoveryCodes(db, pending.user.id),
        });
      }
      const setCookies = await startSession(kit, request, pending.user, used);
      return reply.code(303).header('set-cookie', setCookies).header('location', '/dashboard').send();
    },
  );

  scope.get('/dashboard/sign-in/enrol', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
    const state = await pendingOf(request, 'enrol');
    if (!state) return toSignIn(reply);
    const enrolment = await pendingEnrolment(db, keyring, state.pending.user);
    if (!enrolment) return toSignIn(reply);
    const enrolmentShown = await enrolmentView(enrolment);
    return sendPage(reply, 200, (nonce) => (
      <SignInEnrolPage
        nonce={nonce}
        csrfToken={state.csrfToken}
        email={state.pending.user.email}
        enrolment={enrolmentShown}
      />
    ));
  });

  scope.post(
    '/dashboard/sign-in/enrol',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const state = await pendingFormOf(request, 'enrol');
      if (!state) return toSignIn(reply);
      const { pending } = state;
      const now = clock.now();
      if (
        !(await acceptCode(db, keyring, pending.user.id, formText(request, 'code'), now, { enrolling: true }))
      ) {
        const enrolment = await pendingEnrolment(db, keyring, pending.user);
        if (!enrolment || !(await countPendingFailure(db, pending.idHash)))
          return toSignIn(reply, 'second_factor');
        const enrolmentShown = await enrolmentView(enrolment);
        return sendPage(reply, 422, (nonce) => (
          <SignInEnrolPage
            nonce={nonce}
            csrfToken={state.csrfToken}
            email={pending.user.email}
            enrolment={enrolmentShown}
            error="That code is not valid. Check the app shows the Kassa entry you just added, and try again."
          />
        ));
      }
      await dropPendingSignIn(db, pending.idHash);
      const codes = await issueRecoveryCodes(db, pending.user.id, now);
      await auditPerson(request, pending.user, 'user.two_factor_enabled');
      const setCookies = await startSession(kit, request, pending.user, 'enrolled');
      reply.header('set-cookie', setCookies).header('cache-control', 'no-store');
      return sendPage(reply, 200, (nonce) => <SignInRecoveryCodesPage nonce={nonce} codes={codes} />);
    },
  );

  scope.get(
    '/dashboard/account/two-factor',
    { config: PAGE, schema: { hide: true } },
    async (request, reply) => {
      const context = await pageContext(request, reply);
      if (!context) return reply;
      return twoFactorPage(reply, context, 200);
    },
  );

  scope.post(
    '/dashboard/account/two-factor',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      const user = context.session.user;
      const now = clock.now();
      if (user.totpEnabled) return seeOther(reply, '/dashboard/account/two-factor');
      if (!(await acceptCode(db, keyring, user.id, formText(request, 'code'), now, { enrolling: true })))
        return twoFactorPage(reply, context, 422, 'That code is not valid. Try the next one your app shows.');
      return showNewRecoveryCodes(request, reply, context, 'user.two_factor_enabled');
    },
  );

  scope.post(
    '/dashboard/account/two-factor/recovery-codes',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      const user = context.session.user;
      const now = clock.now();
      if (!user.totpEnabled || !(await acceptCode(db, keyring, user.id, formText(request, 'code'), now)))
        return twoFactorPage(reply, context, 422, 'That code is not valid (or was already used).');
      return showNewRecoveryCodes(request, reply, context, 'user.recovery_codes_replaced');
    },
  );
}
