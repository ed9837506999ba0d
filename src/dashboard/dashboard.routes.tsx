import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { currencyExponent } from '../lib/currencies.ts';
import { AppError, ERROR_CATALOGUE, type ErrorCode } from '../lib/errors.ts';
import { pooledRandomHex } from '../lib/random.ts';
import type { KassaApp } from '../http/http.types.ts';
import { createCspNonce, pageSecurityHeaders } from '../http/pages/page-security.ts';
import type { ResourceScope, ScopeAccess } from '../modules/auth/scopes.ts';
import { buildOrderTimeline } from '../modules/events/order-timeline.service.ts';
import {
  createApiKey,
  DEFAULT_ROLL_OVERLAP_SECONDS,
  revokeApiKey,
  rollApiKey,
} from '../modules/merchants/api-key.service.ts';
import { listApiKeys } from '../modules/merchants/credential.repository.ts';
import { findMerchantById } from '../modules/merchants/merchant.repository.ts';
import { findOrder } from '../modules/orders/order.repository.ts';
import { listRefunds } from '../modules/payments/money-operation.repository.ts';
import { captureIdForIdempotencyKey, refundIdForIdempotencyKey } from '../modules/payments/payment.keys.ts';
import { findPayment, listPaymentsOfOrder } from '../modules/payments/payment.repository.ts';
import type { Services } from '../services.ts';
import { recordDashboardAudit, type DashboardAuditEntry } from './audit.ts';
import { CSRF_FIELD, FORM_KEY_FIELD, renderDocument, type Viewer } from './layout.tsx';
import { AccountPage } from './pages/account.tsx';
import { HomePage } from './pages/home.tsx';
import { OrderPage } from './pages/order.tsx';
import { OrdersPage } from './pages/orders.tsx';
import { ErrorPage, SignInPage } from './pages/sign-in.tsx';
import { DevelopersPage, type RevealedKey } from './pages/developers.tsx';
import { roleAllows, scopesOfRole } from '../modules/users/permissions.ts';
import { homeFigures, parseOrderFilters, searchOrders } from './queries.ts';
import {
  cookieNames,
  createSession,
  csrfBinding,
  dashboardCsrfValid,
  issueDashboardCsrf,
  loadSession,
  newSessionSecret,
  readCookie,
  revokeAllSessions,
  revokeSession,
  serializeCookie,
  type DashboardSession,
} from './sessions.ts';
import { passwordMatches, setPassword, UserInputError, verifySignIn } from '../modules/users/users.ts';

/**
 * The merchant dashboard at `/dashboard` (docs/dashboard.md): server-rendered pages in the gateway's own
 * process, over the same database and services as the API. Plain HTML forms POST and answer 303; every form
 * carries a CSRF token bound to the session; every action checks the person's role (as API scopes) here, on
 * the server, and calls the same application service the API route calls.
 */

const PAGE = { auth: 'public' as const };
/** Sign-in and sign-out change only the session: doing them twice is doing them once. */
const NATURAL_POST = { auth: 'public' as const, idempotency: 'natural' as const };
/** Money actions: each rendered form carries its own key, from which the operation's id is derived. */
const KEYED_POST = { auth: 'public' as const, idempotency: 'pipeline' as const };

type Context = {
  session: DashboardSession;
  merchantName: string;
  scope: { merchantId: string; livemode: boolean };
  viewer: Viewer;
};

class DashboardRefusal extends Error {
  constructor(
    readonly statusCode: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

const NOTICES: Record<string, string> = {
  captured: 'The payment was captured.',
  voided: 'The authorization was voided.',
  refunded: 'The refund was sent.',
  pending: 'The processor has not answered yet; the result will show here shortly.',
  password_changed: 'Your password was changed; your other sessions were signed out.',
  key_revoked: 'The API key was revoked; every gateway refuses it within a second.',
  key_already_created: 'This form was already sent: its key was created then, and its secret shown once.',
};

function errorMessage(code: string | undefined): string | undefined {
  if (!code) return undefined;
  if (code === 'invalid_amount') return 'Enter an amount such as 12.50.';
  return code in ERROR_CATALOGUE ? ERROR_CATALOGUE[code as ErrorCode].title : undefined;
}

function queryText(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

function formText(request: FastifyRequest, name: string): string {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** A decimal amount typed in a form (`12.50`, `12,5`) in minor units of `currency`; undefined when not one. */
export function parseFormAmount(text: string, currency: string): number | undefined {
  const exponent = currencyExponent(currency);
  const match = /^(\d{1,13})(?:[.,](\d+))?$/.exec(text.trim());
  if (!match || (match[2] ?? '').length > exponent) return undefined;
  const minor = Number(match[1]) * 10 ** exponent + Number((match[2] ?? '').padEnd(exponent, '0') || '0');
  return Number.isSafeInteger(minor) && minor > 0 ? minor : undefined;
}

export function registerDashboardRoutes(app: KassaApp, services: Services) {
  const { db, keyring, clock } = services;
  const cookies = cookieNames(services.config.publicUrl);

  function send(reply: FastifyReply, statusCode: number, nonce: string, page: VNode): FastifyReply {
    return reply
      .code(statusCode)
      .headers(pageSecurityHeaders(nonce, { formActionOrigins: [] }))
      .type('text/html; charset=utf-8')
      .send(renderDocument(page));
  }

  function audit(request: FastifyRequest, entry: Omit<DashboardAuditEntry, 'clientAddress'>) {
    return recordDashboardAudit(db, { ...entry, clientAddress: request.ip });
  }

  function userActor(session: DashboardSession) {
    return { type: 'user' as const, id: session.user.id, label: session.user.email };
  }

  async function sessionOf(request: FastifyRequest): Promise<Context | undefined> {
    const secret = readCookie(request.headers.cookie, cookies.session);
    if (!secret) return undefined;
    const session = await loadSession(db, secret, clock.now());
    if (!session) return undefined;
    const merchant = await findMerchantById(db, session.user.merchantId);
    if (!merchant) return undefined;
    const merchantName = merchant.displayName ?? merchant.name;
    // Events and audit entries of this request (a refund, a new key) name this person as their actor.
    request.dashboardUserId = session.user.id;
    return {
      session,
      merchantName,
      scope: { merchantId: merchant.id, livemode: session.livemode },
      viewer: {
        email: session.user.email,
        role: session.user.role,
        merchantName,
        livemode: session.livemode,
        csrfToken: issueDashboardCsrf(keyring, csrfBinding('session', session.idHash), clock.now()),
        nav: { developers: roleAllows(session.user.role, 'api_keys', 'read') },
      },
    };
  }

  /** The signed-in person of a page, or a 303 to the sign-in page (undefined: the answer is sent). */
  async function pageContext(request: FastifyRequest, reply: FastifyReply): Promise<Context | undefined> {
    const context = await sessionOf(request);
    if (!context) {
      await reply.code(303).header('location', '/dashboard/sign-in').send();
      return undefined;
    }
    return context;
  }

  /** The signed-in person of a form POST whose CSRF token is this session's; refuses otherwise. */
  async function actionContext(request: FastifyRequest): Promise<Context> {
    const context = await sessionOf(request);
    if (!context)
      throw new DashboardRefusal(401, 'Signed out', 'Your session has ended. Sign in again to continue.');
    if (
      !dashboardCsrfValid(
        keyring,
        csrfBinding('session', context.session.idHash),
        formText(request, CSRF_FIELD),
        clock.now(),
      )
    ) {
      throw new DashboardRefusal(
        403,
        'Form refused',
        'This form was not sent from your dashboard session, or it is too old. Go back, reload the page and try again.',
      );
    }
    return context;
  }

  function requirePermission(context: Context, resource: ResourceScope, access: ScopeAccess) {
    if (!roleAllows(context.session.user.role, resource, access)) {
      throw new DashboardRefusal(
        403,
        'Not allowed',
        `Your role (${context.session.user.role}) may not ${access === 'read' ? 'see' : 'change'} ${resource.replace('_', ' ')}.`,
      );
    }
  }

  function sessionCookie(secret: string) {
    return serializeCookie(cookies, cookies.session, secret);
  }

  app.register(async (scope) => {
    scope.setErrorHandler(async (error, request, reply) => {
      const nonce = createCspNonce();
      if (error instanceof DashboardRefusal) {
        await send(
          reply,
          error.statusCode,
          nonce,
          <ErrorPage
            nonce={nonce}
            title={error.title}
            message={error.message}
            signedIn={error.statusCode !== 401}
          />,
        );
        return;
      }
      const appError = error instanceof AppError ? error : undefined;
      if (!appError) request.log.error({ err: error }, 'dashboard page failed');
      const status = appError?.status ?? 500;
      await send(
        reply,
        status,
        nonce,
        <ErrorPage
          nonce={nonce}
          title={status === 404 ? 'Not found' : 'Something went wrong'}
          message={appError ? appError.message : 'The page could not be shown. Try again in a moment.'}
          signedIn
        />,
      );
    });

    scope.get('/dashboard/sign-in', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
      if (await sessionOf(request)) return reply.code(303).header('location', '/dashboard').send();
      const signInId = readCookie(request.headers.cookie, cookies.signIn) ?? newSessionSecret();
      const nonce = createCspNonce();
      reply.header('set-cookie', serializeCookie(cookies, cookies.signIn, signInId));
      const csrfToken = issueDashboardCsrf(keyring, csrfBinding('sign_in', signInId), clock.now());
      const notice = queryText(request, 'signed_out') ? 'You are signed out.' : undefined;
      return send(reply, 200, nonce, <SignInPage nonce={nonce} csrfToken={csrfToken} notice={notice} />);
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
            actor: { type: 'system', id: 'dashboard' },
            action: 'user.sign_in_refused_address',
            details: { email },
          });
          return again(429, 'Too many failed sign-ins from your network. Try again in 15 minutes.');
        }
        if (result.outcome === 'locked') {
          await audit(request, {
            merchantId: result.user.merchantId,
            actor: userActor({ user: result.user } as DashboardSession),
            action: 'user.sign_in_refused_locked',
            objectType: 'dashboard_user',
            objectId: result.user.id,
          });
          return again(
            423,
            'This account is locked after too many failed sign-ins. Try again in 30 minutes.',
          );
        }
        if (result.outcome === 'invalid') {
          await audit(request, {
            merchantId: result.user?.merchantId ?? null,
            actor: result.user
              ? { type: 'user', id: result.user.id, label: result.user.email }
              : { type: 'system', id: 'dashboard' },
            action: 'user.sign_in_failed',
            objectType: 'dashboard_user',
            objectId: result.user?.id,
            details: result.user ? undefined : { email },
          });
          if (result.lockedNow && result.user) {
            await audit(request, {
              merchantId: result.user.merchantId,
              actor: { type: 'system', id: 'dashboard' },
              action: 'user.locked',
              objectType: 'dashboard_user',
              objectId: result.user.id,
              details: { minutes: 30 },
            });
          }
          return again(401, 'The email or password is not correct.');
        }
        const secret = await createSession(db, {
          userId: result.user.id,
          clientAddress: request.ip,
          userAgent: request.headers['user-agent'],
          now,
        });
        await audit(request, {
          merchantId: result.user.merchantId,
          actor: { type: 'user', id: result.user.id, label: result.user.email },
          action: 'user.signed_in',
          objectType: 'dashboard_user',
          objectId: result.user.id,
        });
        return reply
          .code(303)
          .header('set-cookie', [
            sessionCookie(secret),
            serializeCookie(cookies, cookies.signIn, '', { maxAgeSeconds: 0 }),
          ])
          .header('location', '/dashboard')
          .send();
      },
    );

    scope.post(
      '/dashboard/sign-out',
      { config: NATURAL_POST, schema: { hide: true } },
      async (request, reply) => {
        const context = await actionContext(request);
        await revokeSession(db, context.session.idHash, clock.now());
        await audit(request, {
          merchantId: context.scope.merchantId,
          actor: userActor(context.session),
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
        await audit(request, {
          merchantId: context.scope.merchantId,
          actor: userActor(context.session),
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

    scope.get('/dashboard', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
      const context = await pageContext(request, reply);
      if (!context) return reply;
      requirePermission(context, 'orders', 'read');
      const figures = await homeFigures(db, context.scope, clock.now());
      const nonce = createCspNonce();
      return send(reply, 200, nonce, <HomePage nonce={nonce} viewer={context.viewer} figures={figures} />);
    });

    scope.get('/dashboard/orders', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
      const context = await pageContext(request, reply);
      if (!context) return reply;
      requirePermission(context, 'orders', 'read');
      const filters = parseOrderFilters((request.query ?? {}) as Record<string, unknown>);
      const { orders, hasMore } = await searchOrders(db, context.scope, filters);
      const nonce = createCspNonce();
      return send(
        reply,
        200,
        nonce,
        <OrdersPage
          nonce={nonce}
          viewer={context.viewer}
          filters={filters}
          orders={orders}
          hasMore={hasMore}
        />,
      );
    });

    scope.get('/dashboard/orders/:id', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
      const context = await pageContext(request, reply);
      if (!context) return reply;
      requirePermission(context, 'orders', 'read');
      const id = (request.params as { id: string }).id;
      const order = await findOrder(db, context.scope, id);
      if (!order) throw new DashboardRefusal(404, 'Not found', `There is no order ${id} in this mode.`);
      const payments = await listPaymentsOfOrder(db, context.scope, order.id);
      const views = [];
      for (const payment of payments) {
        views.push({
          payment,
          refunds: await listRefunds(db, payment.id),
          formKeys: { capture: pooledRandomHex(16), void: pooledRandomHex(16), refund: pooledRandomHex(16) },
        });
      }
      const { entries } = await buildOrderTimeline(db, context.scope, order.id, { limit: 200 });
      const nonce = createCspNonce();
      return send(
        reply,
        200,
        nonce,
        <OrderPage
          nonce={nonce}
          viewer={context.viewer}
          order={order}
          payments={views}
          timeline={entries}
          canMoveMoney={roleAllows(context.session.user.role, 'payments', 'write')}
          notice={NOTICES[queryText(request, 'notice') ?? '']}
          error={errorMessage(queryText(request, 'error'))}
        />,
      );
    });

    /**
     * Capture, void and refund: the payment flow's own operations (what POST /v1/payments/:id/capture,
     * /cancel and /refunds call), with the operation's id derived from the form's key so a second submit of
     * the same form resumes the same capture or refund instead of making another.
     */
    const moneyAction = (action: 'capture' | 'void' | 'refund') =>
      scope.post(
        `/dashboard/payments/:id/${action}`,
        { config: KEYED_POST, schema: { hide: true } },
        async (request, reply) => {
          const context = await actionContext(request);
          requirePermission(context, 'payments', 'write');
          const paymentId = (request.params as { id: string }).id;
          const payment = await findPayment(db, context.scope, paymentId);
          if (!payment)
            throw new DashboardRefusal(404, 'Not found', `There is no payment ${paymentId} in this mode.`);
          const back = (query: string) =>
            reply.code(303).header('location', `/dashboard/orders/${payment.orderId}?${query}`).send();
          const formKey = formText(request, FORM_KEY_FIELD);
          if (!/^[0-9a-f]{32}$/.test(formKey))
            throw new DashboardRefusal(400, 'Form refused', 'The form is incomplete; reload the page.');
          const idempotencyKey = `dashboard:${formKey}`;
          const amountText = formText(request, 'amount');
          const amount = amountText.trim() === '' ? undefined : parseFormAmount(amountText, payment.currency);
          if (action !== 'void' && amountText.trim() !== '' && amount === undefined)
            return back('error=invalid_amount');
          if (action === 'refund' && amount === undefined) return back('error=invalid_amount');
          const reason = formText(request, 'reason').trim().slice(0, 500) || undefined;
          let pending = false;
          let operationId: string | undefined;
          try {
            if (action === 'capture') {
              const attempt = await services.payments.capturePayment(
                payment,
                amount,
                captureIdForIdempotencyKey(context.scope, payment.id, idempotencyKey),
              );
              if (attempt.refusal || attempt.capture.status === 'FAILED')
                return back('error=payment_declined');
              pending = attempt.capture.status === 'PENDING';
              operationId = attempt.capture.id;
            } else if (action === 'void') {
              const result = await services.payments.cancelPayment(context.scope, payment.id);
              pending = result.pending;
            } else {
              const attempt = await services.payments.refundPayment(
                context.scope,
                payment.id,
                { amount, reason },
                refundIdForIdempotencyKey(context.scope, payment.id, idempotencyKey),
              );
              if (attempt.refusal || attempt.refund.status === 'FAILED')
                return back('error=payment_declined');
              pending = attempt.refund.status === 'PENDING';
              operationId = attempt.refund.id;
            }
          } catch (error) {
            if (error instanceof AppError) return back(`error=${error.code}`);
            throw error;
          } finally {
            services.outbox.notify();
          }
          await audit(request, {
            merchantId: context.scope.merchantId,
            actor: userActor(context.session),
            action: `payment.${action}`,
            objectType: 'payment',
            objectId: payment.id,
            details: {
              livemode: context.scope.livemode,
              ...(amount !== undefined ? { amount, currency: payment.currency } : {}),
              ...(operationId ? { operation_id: operationId } : {}),
              ...(reason ? { reason } : {}),
            },
          });
          const done = { capture: 'captured', void: 'voided', refund: 'refunded' }[action];
          return back(`notice=${pending ? 'pending' : done}`);
        },
      );
    moneyAction('capture');
    moneyAction('void');
    moneyAction('refund');

    async function developersPage(
      request: FastifyRequest,
      reply: FastifyReply,
      context: Context,
      extra: { statusCode?: number; revealed?: RevealedKey; error?: string } = {},
    ) {
      const keys = await listApiKeys(db, context.scope, { limit: 100 });
      const nonce = createCspNonce();
      return send(
        reply,
        extra.statusCode ?? 200,
        nonce,
        <DevelopersPage
          nonce={nonce}
          viewer={context.viewer}
          keys={keys.slice(0, 100)}
          canWrite={roleAllows(context.session.user.role, 'api_keys', 'write')}
          formKey={pooledRandomHex(16)}
          revealed={extra.revealed}
          notice={NOTICES[queryText(request, 'notice') ?? '']}
          error={extra.error ?? errorMessage(queryText(request, 'error'))}
        />,
      );
    }

    /** What the key-management service may do for this person: the role's scopes, in this session's mode. */
    const creatorOf = (context: Context) => ({
      ...context.scope,
      scopes: scopesOfRole(context.session.user.role),
    });

    scope.get('/dashboard/developers', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
      const context = await pageContext(request, reply);
      if (!context) return reply;
      requirePermission(context, 'api_keys', 'read');
      return developersPage(request, reply, context);
    });

    /**
     * Creates a key and shows its secret once, in this answer (a redirect would have to keep it somewhere).
     * The form's key is recorded in the idempotency table in the same transaction, so the same form sent
     * twice creates one key; the second answer says so instead of showing a secret again.
     */
    scope.post(
      '/dashboard/developers/api-keys',
      { config: { auth: 'public', idempotency: 'transactional' }, schema: { hide: true } },
      async (request, reply) => {
        const context = await actionContext(request);
        requirePermission(context, 'api_keys', 'write');
        const formKey = formText(request, FORM_KEY_FIELD);
        if (!/^[0-9a-f]{32}$/.test(formKey))
          throw new DashboardRefusal(400, 'Form refused', 'The form is incomplete; reload the page.');
        const body = (request.body ?? {}) as Record<string, unknown>;
        const type = body.type === 'secret' ? 'secret' : 'restricted';
        const scopes = ([] as unknown[])
          .concat(body.scopes ?? [])
          .filter((value): value is string => typeof value === 'string');
        const name = formText(request, 'name').trim().slice(0, 100) || null;
        let created: Awaited<ReturnType<typeof createApiKey>>;
        try {
          created = await db.transaction(async (tx) => {
            const made = await createApiKey(tx, creatorOf(context), {
              type,
              ...(type === 'restricted' ? { scopes } : {}),
              name,
            });
            await tx.query(
              `INSERT INTO idempotency_keys (merchant_id, livemode, idempotency_key, request_method, request_path,
                 request_fingerprint, state, response_status, response_body, completed_at)
               VALUES ($1, $2, $3, 'POST', $4, $5, 'completed', 201, $6, now())`,
              [
                context.scope.merchantId,
                context.scope.livemode,
                `dashboard:${formKey}`,
                '/dashboard/developers/api-keys',
                formKey,
                request.server.idempotencyResponses.seal(JSON.stringify({ id: made.key.id })),
              ],
            );
            return made;
          });
        } catch (error) {
          if ((error as { code?: string }).code === '23505')
            return reply
              .code(303)
              .header('location', '/dashboard/developers?notice=key_already_created')
              .send();
          if (error instanceof AppError)
            return developersPage(request, reply, context, { statusCode: 422, error: error.message });
          throw error;
        }
        return developersPage(request, reply, context, {
          statusCode: 201,
          revealed: { id: created.key.id, secret: created.secret },
        });
      },
    );

    scope.post(
      '/dashboard/developers/api-keys/:id/roll',
      { config: NATURAL_POST, schema: { hide: true } },
      async (request, reply) => {
        const context = await actionContext(request);
        requirePermission(context, 'api_keys', 'write');
        const id = (request.params as { id: string }).id;
        try {
          // A key is rolled once: the same form sent again is refused ("rolled already"), never a second roll.
          const rolled = await db.transaction(async (tx) => {
            const result = await rollApiKey(
              tx,
              creatorOf(context),
              id,
              DEFAULT_ROLL_OVERLAP_SECONDS,
              clock.now(),
            );
            return result;
          });
          return developersPage(request, reply, context, {
            statusCode: 201,
            revealed: {
              id: rolled.key.id,
              secret: rolled.secret,
              previousId: rolled.previous.id,
              previousExpiresAt: new Date(clock.now().getTime() + DEFAULT_ROLL_OVERLAP_SECONDS * 1000),
            },
          });
        } catch (error) {
          if (error instanceof AppError)
            return developersPage(request, reply, context, { statusCode: 422, error: error.message });
          throw error;
        }
      },
    );

    scope.post(
      '/dashboard/developers/api-keys/:id/revoke',
      { config: NATURAL_POST, schema: { hide: true } },
      async (request, reply) => {
        const context = await actionContext(request);
        requirePermission(context, 'api_keys', 'write');
        const id = (request.params as { id: string }).id;
        try {
          await db.transaction(async (tx) => {
            // The key service audits the change and emits its event, with this person as the actor.
            await revokeApiKey(tx, creatorOf(context), id, clock.now());
          });
        } catch (error) {
          if (error instanceof AppError)
            return reply.code(303).header('location', `/dashboard/developers?error=${error.code}`).send();
          throw error;
        }
        return reply.code(303).header('location', '/dashboard/developers?notice=key_revoked').send();
      },
    );

    scope.get('/dashboard/account', { config: PAGE, schema: { hide: true } }, async (request, reply) => {
      const context = await pageContext(request, reply);
      if (!context) return reply;
      const nonce = createCspNonce();
      return send(
        reply,
        200,
        nonce,
        <AccountPage
          nonce={nonce}
          viewer={context.viewer}
          notice={NOTICES[queryText(request, 'notice') ?? '']}
        />,
      );
    });

    scope.post(
      '/dashboard/account/password',
      { config: NATURAL_POST, schema: { hide: true } },
      async (request, reply) => {
        const context = await actionContext(request);
        const now = clock.now();
        const nonce = createCspNonce();
        const refuse = (error: string) =>
          send(reply, 422, nonce, <AccountPage nonce={nonce} viewer={context.viewer} error={error} />);
        if (!(await passwordMatches(db, context.session.user.id, formText(request, 'current_password'))))
          return refuse('The current password is not correct.');
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
        await audit(request, {
          merchantId: context.scope.merchantId,
          actor: userActor(context.session),
          action: 'user.password_changed',
          objectType: 'dashboard_user',
          objectId: context.session.user.id,
        });
        return reply
          .code(303)
          .header('set-cookie', sessionCookie(secret))
          .header('location', '/dashboard/account?notice=password_changed')
          .send();
      },
    );
  });
}
