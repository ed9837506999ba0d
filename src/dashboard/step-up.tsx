import type { FastifyReply, FastifyRequest } from 'fastify';
import { createCspNonce } from '../http/pages/page-security.ts';
import type { KassaApp } from '../http/http.types.ts';
import { acceptCode, STEP_UP_MINUTES } from '../modules/users/two-factor.ts';
import { countFailedSignIn } from '../modules/users/users.ts';
import { queryText, type Context, type DashboardKit } from './kit.tsx';
import { StepUpPage, STEP_UP_FIELD } from './pages/two-factor.tsx';

/**
 * Step-up: before a live-mode action that makes or rolls a credential or moves money back, the person
 * re-enters a code from their authenticator; it covers their session's live actions for five minutes.
 *
 * An action calls `stepUpDone` first; when a code is due it answers a page with the code field and the
 * action's own form fields, posting to `/dashboard/step-up`, which checks the code and sends the browser back
 * with 307 — so the same form (same CSRF token, same per-form idempotency key) is posted to the action again.
 */

/** True when the action may go on; otherwise the step-up page has been sent and the caller returns `reply`. */
export async function stepUpDone(
  kit: DashboardKit,
  context: Context,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<boolean> {
  if (!context.scope.livemode) return true;
  const steppedUpAt = context.session.steppedUpAt;
  if (steppedUpAt && kit.clock.now().getTime() - steppedUpAt.getTime() < STEP_UP_MINUTES * 60_000)
    return true;
  const nonce = createCspNonce();
  await kit.send(
    reply,
    200,
    nonce,
    <StepUpPage nonce={nonce} viewer={context.viewer} then={request.url} fields={formFields(request)} />,
  );
  return false;
}

function formFields(request: FastifyRequest): [string, string][] {
  const body = (request.body ?? {}) as Record<string, unknown>;
  return Object.entries(body).flatMap(([name, value]): [string, string][] =>
    name === STEP_UP_FIELD ? [] : typeof value === 'string' ? [[name, value]] : [],
  );
}

/** Only dashboard paths of this gateway: never an open redirect. */
function safeThen(value: string | undefined): string | undefined {
  return value && /^\/dashboard\/[A-Za-z0-9_\-/]*(\?[^\s]*)?$/.test(value) && !value.includes('//')
    ? value
    : undefined;
}

export function registerStepUpRoutes(scope: KassaApp, kit: DashboardKit) {
  const { db, keyring, clock, send, auditPerson, auditLocked, actionContext } = kit;

  scope.post(
    '/dashboard/step-up',
    { config: { auth: 'public' as const, idempotency: 'natural' as const }, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      const then = safeThen(queryText(request, 'then')) ?? '/dashboard';
      const now = clock.now();
      const code = ((request.body ?? {}) as Record<string, unknown>)[STEP_UP_FIELD];
      const user = context.session.user;
      if (typeof code !== 'string' || !(await acceptCode(db, keyring, user.id, code, now))) {
        const counted = await countFailedSignIn(db, user.id, now);
        await auditPerson(request, user, 'user.step_up_failed');
        if (counted.lockedNow) await auditLocked(request, user);
        const nonce = createCspNonce();
        return send(
          reply,
          422,
          nonce,
          <StepUpPage
            nonce={nonce}
            viewer={context.viewer}
            then={then}
            fields={formFields(request)}
            error="That code is not valid (or was already used). Try the next one."
          />,
        );
      }
      await db.query('UPDATE dashboard_sessions SET stepped_up_at = $2 WHERE id_hash = $1', [
        context.session.idHash,
        now,
      ]);
      await auditPerson(request, user, 'user.stepped_up');
      // 307 keeps the method and body: the browser posts the action's form again, now stepped up.
      return reply.code(307).header('location', then).send();
    },
  );
}
