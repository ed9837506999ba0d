import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { currencyExponent } from '../lib/currencies.ts';
import { ERROR_CATALOGUE, type AppError, type ErrorCode } from '../lib/errors.ts';
import type { KassaApp } from '../http/http.types.ts';
import { createCspNonce, pageSecurityHeaders } from '../http/pages/page-security.ts';
import type { ResourceScope, ScopeAccess } from '../modules/auth/scopes.ts';
import { findMerchantById } from '../modules/merchants/merchant.repository.ts';
import { roleAllows, roleSeesTeam, scopesOfRole } from '../modules/users/permissions.ts';
import { LOCK_MINUTES } from '../modules/users/users.ts';
import type { Services } from '../services.ts';
import { recordDashboardAudit, SYSTEM_ACTOR, userActor, type DashboardAuditEntry } from './audit.ts';
import { CSRF_FIELD, FORM_KEY_FIELD, renderDocument, type Viewer } from './layout.tsx';
import {
  cookieNames,
  csrfBinding,
  dashboardCsrfValid,
  issueDashboardCsrf,
  loadSession,
  readCookie,
  serializeCookie,
  type DashboardSession,
} from './sessions.ts';

/**
 * What every dashboard route file shares: who is signed in, the CSRF check of a form, the role check, the
 * page answer with the strict page headers, and the audit entry of an action. Route files under `routes/`
 * receive one kit each from `dashboard.routes.tsx`.
 */

export const PAGE = { auth: 'public' as const };
/** Sign-in and sign-out change only the session: doing them twice is doing them once. */
export const NATURAL_POST = { auth: 'public' as const, idempotency: 'natural' as const };
/** Money actions: each rendered form carries its own key, from which the operation's id is derived. */
export const KEYED_POST = { auth: 'public' as const, idempotency: 'pipeline' as const };
/** A form whose effect and its idempotency record commit in one transaction. */
export const TRANSACTIONAL_POST = { auth: 'public' as const, idempotency: 'transactional' as const };

/** Where someone whose password an owner reset must go first, and the routes open to them meanwhile. */
const PASSWORD_CHANGE_PAGE = '/dashboard/account';
const OPEN_BEFORE_PASSWORD_CHANGE: ReadonlySet<string> = new Set([
  'GET /dashboard/account',
  'POST /dashboard/account/password',
  'POST /dashboard/sign-out',
  'POST /dashboard/sign-out-everywhere',
]);

/**
 * Whether this request is refused because the person must first replace a password an owner reset: every
 * page and form but the change of password and signing out (checked in the kit, so no route can forget it).
 */
function passwordChangePending(request: FastifyRequest, context: Context): boolean {
  return (
    context.session.user.passwordChangeRequired &&
    !OPEN_BEFORE_PASSWORD_CHANGE.has(`${request.method} ${request.routeOptions.url}`)
  );
}

export type Context = {
  session: DashboardSession;
  merchantName: string;
  scope: { merchantId: string; livemode: boolean };
  viewer: Viewer;
};

/** A refusal shown as the dashboard's error page with this status (not a problem document). */
export class DashboardRefusal extends Error {
  constructor(
    readonly statusCode: number,
    readonly title: string,
    message: string,
  ) {
    super(message);
  }
}

/** The message of an error code carried in a redirect's `?error=`; undefined for an unknown code. */
export function errorMessage(code: string | undefined): string | undefined {
  if (!code) return undefined;
  if (code === 'invalid_amount') return 'Enter an amount such as 12.50.';
  return code in ERROR_CATALOGUE ? ERROR_CATALOGUE[code as ErrorCode].title : undefined;
}

export function queryText(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : undefined;
}

export function formText(request: FastifyRequest, name: string): string {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** The notice named by `?notice=` among a page's own notices. */
export function noticeOf(request: FastifyRequest, notices: Record<string, string>): string | undefined {
  const name = queryText(request, 'notice');
  return name && Object.hasOwn(notices, name) ? notices[name] : undefined;
}

/**
 * A page's notice (named by `?notice=`) and error: the error this answer brings, else the one a redirect named
 * by `?error=`. Every dashboard page shows both the same way.
 */
export function pageFeedback(
  request: FastifyRequest,
  notices: Record<string, string>,
  error?: string,
): { notice: string | undefined; error: string | undefined } {
  return { notice: noticeOf(request, notices), error: error ?? errorMessage(queryText(request, 'error')) };
}

/** The message of a service's refusal shown above a form: its field errors in a line, else its detail. */
export function refusalMessage(error: AppError): string {
  return error.errors?.length ? error.errors.map((field) => field.message).join('. ') : error.message;
}

/** The strings of a form field that may repeat (ticked checkboxes): none, one or many. */
export function formStrings(request: FastifyRequest, name: string): string[] {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  return ([] as unknown[]).concat(value ?? []).filter((item): item is string => typeof item === 'string');
}

/** The form's own key (32 hex digits, rendered into each form); refuses a form without one. */
export function formKeyOf(request: FastifyRequest): string {
  const formKey = formText(request, FORM_KEY_FIELD);
  if (!/^[0-9a-f]{32}$/.test(formKey))
    throw new DashboardRefusal(400, 'Form refused', 'The form is incomplete; reload the page.');
  return formKey;
}

/** A decimal amount typed in a form (`12.50`, `12,5`) in minor units of `currency`; undefined when not one. */
export function parseFormAmount(text: string, currency: string): number | undefined {
  const exponent = currencyExponent(currency);
  const match = /^(\d{1,13})(?:[.,](\d+))?$/.exec(text.trim());
  if (!match || (match[2] ?? '').length > exponent) return undefined;
  const minor = Number(match[1]) * 10 ** exponent + Number((match[2] ?? '').padEnd(exponent, '0') || '0');
  return Number.isSafeInteger(minor) && minor > 0 ? minor : undefined;
}

/**
 * What the key-management service may do for this person (API keys, OAuth clients): the role's scopes, in
 * this session's mode, so a credential made from the dashboard never carries more than its maker may do.
 */
export function credentialCreatorOf(context: Context) {
  return { ...context.scope, scopes: scopesOfRole(context.session.user.role) };
}

export { areaAudit, auditPersonsChange, SYSTEM_ACTOR, userActor } from './audit.ts';

export type DashboardKit = ReturnType<typeof createDashboardKit>;

export function createDashboardKit(services: Services) {
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

  /**
   * An entry about a dashboard person's own account (a sign-in, a wrong code, a new password), with them as
   * the actor.
   */
  function auditPerson(
    request: FastifyRequest,
    user: DashboardSession['user'],
    action: string,
    details?: Record<string, unknown>,
  ) {
    return audit(request, {
      merchantId: user.merchantId,
      actor: userActor({ user }),
      action,
      objectType: 'dashboard_user',
      objectId: user.id,
      details,
    });
  }

  /** An action of the signed-in person, audited after it: they are the actor, in their shop. */
  function auditAction(
    request: FastifyRequest,
    context: Context,
    change: { action: string; objectType?: string; objectId?: string; details?: Record<string, unknown> },
  ) {
    return audit(request, {
      merchantId: context.scope.merchantId,
      actor: userActor(context.session),
      ...change,
    });
  }

  /** The lock-out after too many failed sign-ins or codes in a row: done by Kassa, not by the person. */
  function auditLocked(request: FastifyRequest, user: DashboardSession['user']) {
    return audit(request, {
      merchantId: user.merchantId,
      actor: SYSTEM_ACTOR,
      action: 'user.locked',
      objectType: 'dashboard_user',
      objectId: user.id,
      details: { minutes: LOCK_MINUTES },
    });
  }

  async function sessionOf(request: FastifyRequest): Promise<Context | undefined> {
    const secret = readCookie(request.headers.cookie, cookies.session);
    if (!secret) return undefined;
    const session = await loadSession(db, secret, clock.now());
    if (!session) return undefined;
    // Live mode needs two-factor (docs/security.md): a live session of someone without it is no session.
    if (session.livemode && !session.user.totpEnabled) return undefined;
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
        nav: {
          developers: roleAllows(session.user.role, 'api_keys', 'read'),
          checkouts: roleAllows(session.user.role, 'checkouts', 'read'),
          paymentLinks: roleAllows(session.user.role, 'payment_links', 'read'),
          settings: roleAllows(session.user.role, 'merchant', 'read'),
          webhooks: roleAllows(session.user.role, 'webhooks', 'read'),
          processors: roleAllows(session.user.role, 'processor_accounts', 'read'),
          team: roleSeesTeam(session.user.role),
          auditLog: roleSeesTeam(session.user.role),
        },
      },
    };
  }

  /**
   * The signed-in person of a page, or a 303 to the sign-in page (undefined: the answer is sent). Someone whose
   * password an owner reset is sent to the Account page instead, until they chose their own.
   */
  async function pageContext(request: FastifyRequest, reply: FastifyReply): Promise<Context | undefined> {
    const context = await sessionOf(request);
    if (!context) {
      await reply.code(303).header('location', '/dashboard/sign-in').send();
      return undefined;
    }
    if (passwordChangePending(request, context)) {
      await reply.code(303).header('location', PASSWORD_CHANGE_PAGE).send();
      return undefined;
    }
    return context;
  }

  /** The signed-in person of a form POST whose CSRF token is this session's; refuses otherwise. */
  async function actionContext(request: FastifyRequest): Promise<Context> {
    const context = await sessionOf(request);
    if (!context)
      throw new DashboardRefusal(401, 'Signed out', 'Your session has ended. Sign in again to continue.');
    const binding = csrfBinding('session', context.session.idHash);
    if (!dashboardCsrfValid(keyring, binding, formText(request, CSRF_FIELD), clock.now())) {
      throw new DashboardRefusal(
        403,
        'Form refused',
        'This form was not sent from your dashboard session, or it is too old. Go back, reload the page and try again.',
      );
    }
    if (passwordChangePending(request, context)) {
      throw new DashboardRefusal(
        403,
        'Choose a new password first',
        'An owner reset your password. Choose your own on the Account page before doing anything else.',
      );
    }
    return context;
  }

  /** Roles are checked here, on the server, for every page and action: hiding a button is not the check. */
  function requirePermission(context: Context, resource: ResourceScope, access: ScopeAccess) {
    if (!roleAllows(context.session.user.role, resource, access)) {
      throw new DashboardRefusal(
        403,
        'Not allowed',
        `Your role (${context.session.user.role}) may not ${access === 'read' ? 'see' : 'change'} ${resource.replace('_', ' ')}.`,
      );
    }
  }

  /** The signed-in person of a page they may see (`resource` read), or undefined when the answer is sent. */
  async function readPageContext(
    request: FastifyRequest,
    reply: FastifyReply,
    resource: ResourceScope,
  ): Promise<Context | undefined> {
    const context = await pageContext(request, reply);
    if (!context) return undefined;
    requirePermission(context, resource, 'read');
    return context;
  }

  /** A GET page of whoever may see `resource` (others are sent to sign in, or refused). */
  function readPage(
    scope: KassaApp,
    url: string,
    resource: ResourceScope,
    render: (request: FastifyRequest, reply: FastifyReply, context: Context) => Promise<unknown>,
  ) {
    scope.get(url, { config: PAGE, schema: { hide: true } }, async (request, reply) => {
      const context = await readPageContext(request, reply, resource);
      if (!context) return reply;
      return render(request, reply, context);
    });
  }

  /** The signed-in person of a form POST that changes `resource`: a valid CSRF token and the role to write it. */
  async function writeActionContext(request: FastifyRequest, resource: ResourceScope): Promise<Context> {
    const context = await actionContext(request);
    requirePermission(context, resource, 'write');
    return context;
  }

  /** Sends a page rendered with a fresh CSP nonce (each answer has its own, so inline markup cannot be replayed). */
  function sendPage(reply: FastifyReply, statusCode: number, page: (nonce: string) => VNode): FastifyReply {
    const nonce = createCspNonce();
    return send(reply, statusCode, nonce, page(nonce));
  }

  function sessionCookie(secret: string) {
    return serializeCookie(cookies, cookies.session, secret);
  }

  /** A 303 to a dashboard page (the answer to every plain form POST). */
  function seeOther(reply: FastifyReply, location: string) {
    return reply.code(303).header('location', location).send();
  }

  return {
    services,
    db,
    keyring,
    clock,
    cookies,
    send,
    audit,
    auditPerson,
    auditAction,
    auditLocked,
    sessionOf,
    pageContext,
    actionContext,
    readPageContext,
    readPage,
    writeActionContext,
    sendPage,
    requirePermission,
    sessionCookie,
    seeOther,
  };
}
