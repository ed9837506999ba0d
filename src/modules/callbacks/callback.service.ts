import type { Database } from '../../db/client.ts';
import { mayDiscloseResponse } from '../../egress/egress-policy.ts';
import {
  EgressError,
  parseIpAddress,
  resolveWithSystemDns,
  type CompiledEgressPolicy,
  type EgressClient,
  type EgressResponse,
  type IPAddress,
} from '../../egress/index.ts';
import { continueTrace, runInTrace, type Metrics } from '../../metrics/index.ts';
import type { Clock } from '../../lib/clock.ts';
import { newSecret } from '../../lib/ids.ts';
import type { Keyring } from '../../lib/keyring.ts';
import { checkRedirectUrl } from '../../lib/merchant-urls.ts';
import { judgeAttempt, type AttemptObservation } from '../../outbox/retry-schedule.ts';
import { findCheckoutWithOrder } from '../checkouts/checkout.service.ts';
import type { Checkout, Scope } from '../checkouts/checkout.types.ts';
import type { Order } from '../orders/order.types.ts';
import type { PaymentResource } from '../payments/payment.presenter.ts';
import type { Payment } from '../payments/payment.types.ts';
import { rewriteCssUrls, rewriteResourceUrl, sanitizeCallbackHtml } from './callback-html.ts';
import {
  buildCallbackForm,
  buildCallbackHeaders,
  callbackSigningSecret,
  callbackWebhookId,
  subjectFromEventSnapshot,
  subjectFromPayment,
} from './callback-payload.ts';
import { proxyPathFor } from './callback-proxy-url.ts';
import {
  claimDueNotifications,
  insertCallbackAttempt,
  recordNotificationOutcome,
  type ClaimedNotification,
  type NewCallbackAttempt,
} from './callback.repository.ts';
import type { CallbackResult, ShopperCallbackKind, VerifyOrderVerdict } from './callback.types.ts';

/**
 * Kassa's requests to a merchant's callback URLs (the callbacks flow), all through the egress client (SSRF-safe, no
 * redirects followed, 7 s connect / 28 s deadline by default) and all signed like webhooks:
 *
 * - `postCallback('ok' | 'fail' | 'open', …)` while the shopper waits: the answer becomes the shopper's next
 *   page (sanitised HTML, a redirect, or Kassa's error page);
 * - `verifyOrder` just before authorization: `200` + body `OKAY` lets the payment proceed, anything else stops
 *   it with the answer's first 255 characters as the reason;
 * - `deliverDueNotifications` (a worker): the latest state of a payment that was PENDING (its finalisation,
 *   then a later capture or cancellation), retried on the webhook schedule until a 2xx.
 *
 * Every request is recorded in `callback_attempts` (the order timeline shows them).
 */

/** The largest callback page Kassa serves; a bigger answer is an error (a cut page would be broken). */
export const CALLBACK_HTML_MAX_BYTES = 1024 * 1024;
/** What is kept of an answer for the timeline. */
export const RESPONSE_EXCERPT_BYTES = 4096;
/** What verify_order's answer may show the shopper (characters, not bytes). */
export const VERIFY_ORDER_REASON_MAX_CHARS = 255;
/** The largest image or stylesheet the proxy forwards. */
export const PROXY_MAX_BYTES = 2 * 1024 * 1024;

const VERIFY_ORDER_ACCEPTED = 'OKAY';
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);
/** Raster formats and SVG (served as an image with a sandboxing CSP, never as a document that runs). */
const PROXY_IMAGE_TYPES = new Set([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'image/avif',
  'image/bmp',
  'image/x-icon',
  'image/vnd.microsoft.icon',
  'image/svg+xml',
]);

export type CallbackServiceDeps = {
  db: Database;
  /** An egress client whose timeouts are the callback timeouts (see `Config.callbackConnectTimeoutMs`). */
  egress: EgressClient;
  keyring: Keyring;
  clock: Clock;
  /** Delays (seconds) between notification attempts: the webhook schedule. */
  retrySchedule: readonly number[];
  /** The longest one attempt can take; a notification's lease outlasts it. */
  attemptTimeoutMs: number;
  /**
   * Which answers may be shown (see `mayDiscloseResponse`): the egress policy, Kassa's own public URL, and
   * how host names are resolved for the check (the system resolver unless a test gives its own).
   */
  disclosure: {
    policy: CompiledEgressPolicy;
    publicUrl: string;
    resolve?: (hostname: string) => Promise<{ address: string }[]>;
  };
  logger?: { warn(object: object, message: string): void };
  /** Counts each exchange's result (src/metrics/). */
  metrics?: Pick<Metrics, 'callbackResults'>;
};

/**
 * A 2xx from a target production refuses (a loopback service in development): its page is not shown, the
 * shopper sees Kassa's error page with this reason (docs/callbacks.md).
 */
const UNDISCLOSED_REASON = (status: number) =>
  `HTTP ${status} from an address production refuses (e.g. loopback); the page is not shown. ` +
  'Allow-list the address (KASSA_EGRESS_ALLOW_LIST) to see it in development';

export type ProxiedResource =
  { ok: true; contentType: string; body: Buffer } | { ok: false; status: 404 | 502; reason: string };

export type CallbackService = ReturnType<typeof createCallbackService>;

/** One request and what came of it; `startedAt` (the clock's) is when the attempt is shown on the timeline. */
type Exchange = { startedAt: Date; durationMs: number } & (
  | { response: EgressResponse; /** May its body be shown? See `mayDiscloseResponse`. */ disclose: boolean }
  | { error: string }
);

function mediaTypeOf(headers: Record<string, string>): string {
  return (headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** The charset of the Content-Type header, else of a `<meta charset>` in the first KiB, else UTF-8. */
function charsetOf(headers: Record<string, string>, body: Buffer): string {
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)/i.exec(headers['content-type'] ?? '')?.[1];
  if (fromHeader) return fromHeader;
  const head = body.subarray(0, 1024).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1] ?? 'utf-8';
}

function decodeBody(headers: Record<string, string>, body: Buffer): string {
  try {
    return new TextDecoder(charsetOf(headers, body)).decode(body);
  } catch {
    return new TextDecoder('utf-8').decode(body); // an unknown charset label
  }
}

function excerptOf(body: Buffer): string | null {
  if (body.length === 0) return null;
  // Postgres text cannot hold NUL; the excerpt is for people.
  return body.subarray(0, RESPONSE_EXCERPT_BYTES).toString('utf8').replaceAll('\u0000', '');
}

function describeEgressError(error: unknown): string {
  return error instanceof EgressError ? `${error.kind}: ${error.message}` : 'The request failed unexpectedly';
}

const TEXT_ENTITIES: Record<string, string> = {
  '&amp;': '&',
  '&lt;': '<',
  '&gt;': '>',
  '&quot;': '"',
  '&#39;': "'",
};

/** An answer as one line of plain text: tags stripped (for HTML answers), white space collapsed. */
function plainTextOf(text: string, mediaType: string): string {
  const withoutTags = HTML_TYPES.has(mediaType)
    ? text
        .replace(/<(script|style)\b[\s\S]*?<\/\1\s*>/gi, ' ')
        .replace(/<[^>]*>/g, ' ')
        .replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => TEXT_ENTITIES[entity] ?? entity)
    : text;
  return withoutTags.replace(/\s+/g, ' ').trim();
}

/** The first `max` characters (code points, so a surrogate pair is never cut). */
function firstCharacters(text: string, max: number): string {
  return Array.from(text).slice(0, max).join('');
}

export function createCallbackService(deps: CallbackServiceDeps) {
  const { db, egress, keyring, clock } = deps;
  const leaseSeconds = Math.ceil(deps.attemptTimeoutMs / 1000) + 30;
  const proxy = (httpUrl: string) => proxyPathFor(keyring, httpUrl);

  /**
   * Whether what `url` answered may reach the shopper or the timeline. In production the request itself
   * met the production rules. Elsewhere, a host name is resolved again for the check: the connection's own
   * address is not exposed by the egress client, so a name that answers differently twice (DNS rebinding)
   * could still slip a loopback body through in development; production is not affected.
   */
  async function mayDisclose(url: string): Promise<boolean> {
    const { policy, publicUrl } = deps.disclosure;
    if (policy.mode === 'production') return true;
    let addresses: IPAddress[] = [];
    const hostname = new URL(url).hostname;
    if (parseIpAddress(hostname) === null) {
      const resolve = deps.disclosure.resolve ?? resolveWithSystemDns;
      const resolved = await resolve(hostname).catch(() => []);
      addresses = resolved.map((entry) => parseIpAddress(entry.address)).filter((a) => a !== null);
    }
    return mayDiscloseResponse(policy, url, addresses, publicUrl);
  }

  /** One signed POST; never throws for network trouble (that is an answer too). */
  async function send(input: {
    scope: Scope;
    url: string;
    webhookId: string;
    body: string;
    accept: string;
    maxResponseBytes: number;
  }): Promise<Exchange> {
    const secret = await callbackSigningSecret(db, keyring, input.scope);
    const startedAt = clock.now();
    const headers = buildCallbackHeaders({
      webhookId: input.webhookId,
      timestamp: startedAt,
      body: input.body,
      secret,
      accept: input.accept,
    });
    const started = performance.now();
    try {
      const response = await egress.request({
        url: input.url,
        method: 'POST',
        headers,
        body: input.body,
        maxResponseBytes: input.maxResponseBytes,
      });
      const durationMs = Math.round(performance.now() - started);
      return { startedAt, response, durationMs, disclose: await mayDisclose(input.url) };
    } catch (error) {
      if (!(error instanceof EgressError))
        deps.logger?.warn({ err: error, url: input.url }, 'callback request failed');
      return {
        startedAt,
        error: describeEgressError(error),
        durationMs: Math.round(performance.now() - started),
      };
    }
  }

  /** Stores one exchange and counts its result. */
  function recordAttempt(attempt: NewCallbackAttempt) {
    deps.metrics?.callbackResults.inc({ kind: attempt.kind, result: attempt.result });
    return insertCallbackAttempt(db, attempt);
  }

  function attemptBase(
    kind: NewCallbackAttempt['kind'],
    url: string,
    webhookId: string,
    payment: { id: string; merchantId: string; livemode: boolean; checkoutId: string; orderId: string },
    exchange: Exchange,
  ) {
    const response = 'response' in exchange ? exchange.response : undefined;
    return {
      merchantId: payment.merchantId,
      livemode: payment.livemode,
      checkoutId: payment.checkoutId,
      orderId: payment.orderId,
      paymentId: payment.id,
      kind,
      webhookId,
      url,
      statusCode: response?.status ?? null,
      durationMs: exchange.durationMs,
      responseExcerpt:
        response && 'disclose' in exchange && exchange.disclose ? excerptOf(response.body) : null,
      responseTruncated: response?.truncated ?? false,
      createdAt: exchange.startedAt,
    };
  }

  /** What an ok / fail / open answer means for the shopper. */
  function interpretShopperAnswer(
    exchange: Exchange,
    callbackUrl: string,
    livemode: boolean,
  ): CallbackResult {
    if ('error' in exchange) return { type: 'error', reason: exchange.error };
    const { response } = exchange;
    const { status } = response;
    if (status >= 200 && status < 300) {
      if (!exchange.disclose) return { type: 'error', reason: UNDISCLOSED_REASON(status) };
      const mediaType = mediaTypeOf(response.headers);
      if (!HTML_TYPES.has(mediaType)) {
        return {
          type: 'error',
          reason: `HTTP ${status} with content type "${mediaType || 'none'}"; a callback page must be text/html (or a redirect)`,
        };
      }
      if (response.truncated) {
        return { type: 'error', reason: `The page is larger than ${CALLBACK_HTML_MAX_BYTES} bytes` };
      }
      const page = sanitizeCallbackHtml(decodeBody(response.headers, response.body), {
        pageUrl: callbackUrl,
        proxy,
      });
      return { type: 'html', html: page.html, callbackUrl, formOrigins: page.formOrigins };
    }
    if (REDIRECT_STATUSES.has(status)) {
      const location = response.headers.location;
      if (!location) return { type: 'error', reason: `HTTP ${status} without a Location header` };
      let absolute: string;
      try {
        absolute = new URL(location, callbackUrl).href;
      } catch {
        return { type: 'error', reason: `HTTP ${status} with a Location that is not a URL` };
      }
      // The shopper's browser goes there: the same rules as the merchant's redirect URLs.
      const refusal = checkRedirectUrl(absolute, { livemode });
      if (refusal) return { type: 'error', reason: `HTTP ${status}: the Location ${refusal}` };
      return { type: 'redirect', location: absolute };
    }
    return { type: 'error', reason: `HTTP ${status}` };
  }

  async function postCallback(
    kind: ShopperCallbackKind,
    checkout: Checkout,
    order: Order,
    payment: Payment,
  ): Promise<CallbackResult> {
    const url = checkout.callbacks[kind];
    if (!url) throw new Error(`checkout ${checkout.id} has no ${kind} callback`);
    const webhookId = callbackWebhookId(payment.id, kind);
    const scope = { merchantId: checkout.merchantId, livemode: checkout.livemode };
    // The caller's order was read before the payment settled; `order_status` says where it is now (PAID…).
    const current = (await findCheckoutWithOrder(db, scope, checkout.id))?.order ?? order;
    const exchange = await send({
      scope,
      url,
      webhookId,
      body: buildCallbackForm(subjectFromPayment(kind, checkout, current, payment)),
      accept: 'text/html',
      maxResponseBytes: CALLBACK_HTML_MAX_BYTES,
    });
    const result = interpretShopperAnswer(exchange, url, checkout.livemode);
    await recordAttempt({
      ...attemptBase(kind, url, webhookId, payment, exchange),
      result: result.type,
      error: result.type === 'error' ? result.reason : null,
    });
    return result;
  }

  /**
   * Asks `callbacks.verify_order` whether the order may be paid, just before authorization. Only `200` with the
   * body `OKAY` (surrounding white space ignored) says yes; the reason of a no is what the shopper is shown.
   */
  async function verifyOrder(
    payment: Payment,
    checkout: Checkout,
    order: Order,
  ): Promise<VerifyOrderVerdict> {
    const url = checkout.callbacks.verify_order;
    if (!url) return { ok: true };
    const webhookId = callbackWebhookId(payment.id, 'verify_order');
    const exchange = await send({
      scope: { merchantId: checkout.merchantId, livemode: checkout.livemode },
      url,
      webhookId,
      body: buildCallbackForm(subjectFromPayment('verify_order', checkout, order, payment)),
      accept: 'text/plain',
      maxResponseBytes: 64 * 1024,
    });
    let verdict: VerifyOrderVerdict;
    if ('error' in exchange) {
      verdict = {
        ok: false,
        reason: exchange.error.startsWith('response_timeout')
          ? 'The store did not confirm the order in time'
          : 'The store could not be reached to confirm the order',
      };
    } else {
      const { response } = exchange;
      const text = plainTextOf(decodeBody(response.headers, response.body), mediaTypeOf(response.headers));
      if (response.status === 200 && text === VERIFY_ORDER_ACCEPTED) verdict = { ok: true };
      else {
        const reason = exchange.disclose ? firstCharacters(text, VERIFY_ORDER_REASON_MAX_CHARS) : '';
        verdict = { ok: false, reason: reason || `The store refused the order (HTTP ${response.status})` };
      }
    }
    await recordAttempt({
      ...attemptBase('verify_order', url, webhookId, payment, exchange),
      result: verdict.ok ? 'accepted' : 'refused',
      error: verdict.ok ? null : 'error' in exchange ? exchange.error : verdict.reason,
    });
    return verdict;
  }

  async function deliverNotification(claimed: ClaimedNotification): Promise<void> {
    const scope = { merchantId: claimed.merchantId, livemode: claimed.livemode };
    const found = await findCheckoutWithOrder(db, scope, claimed.checkoutId);
    if (!found) {
      await recordNotificationOutcome(db, {
        id: claimed.id,
        leaseToken: claimed.leaseToken,
        sentEventId: claimed.eventId,
        outcome: 'failed',
        retryInSeconds: null,
        error: 'The checkout no longer exists',
      });
      return;
    }
    const subject = subjectFromEventSnapshot(claimed.eventData as PaymentResource, {
      checkout: found.checkout,
      order: found.order,
      eventCreatedAt: claimed.eventCreatedAt,
    });
    const exchange = await send({
      scope,
      url: claimed.url,
      webhookId: claimed.eventId,
      body: buildCallbackForm(subject),
      accept: '*/*',
      maxResponseBytes: RESPONSE_EXCERPT_BYTES,
    });
    const observation: AttemptObservation =
      'error' in exchange
        ? { kind: 'error', error: exchange.error }
        : { kind: 'response', status: exchange.response.status, headers: exchange.response.headers };
    const verdict = judgeAttempt(observation, {
      attemptNumber: claimed.attemptNumber,
      schedule: deps.retrySchedule,
      now: clock.now(),
    });
    const retryInSeconds = verdict.result === 'failed' ? verdict.retryInSeconds : null;
    // 410 Gone ends the delivery as it ends a webhook's (nothing to disable here: the URL is the checkout's).
    const error =
      verdict.result === 'succeeded'
        ? null
        : verdict.disableEndpoint
          ? 'HTTP 410: the notification URL answered Gone; not retried'
          : verdict.error;
    await recordAttempt({
      ...attemptBase(
        'notification',
        claimed.url,
        claimed.eventId,
        { ...claimed, id: claimed.paymentId },
        exchange,
      ),
      notificationId: claimed.id,
      attemptNumber: claimed.attemptNumber,
      result: verdict.result === 'succeeded' ? 'delivered' : 'failed',
      error,
      nextAttemptAt: retryInSeconds === null ? null : new Date(clock.now().getTime() + retryInSeconds * 1000),
    });
    await recordNotificationOutcome(db, {
      id: claimed.id,
      leaseToken: claimed.leaseToken,
      sentEventId: claimed.eventId,
      outcome: verdict.result === 'succeeded' ? 'succeeded' : retryInSeconds === null ? 'failed' : 'retry',
      retryInSeconds,
      error,
    });
  }

  /** One round of the notification worker: claims due deliveries and sends them in parallel. */
  async function deliverDueNotifications(limit = 20): Promise<number> {
    const claimed = await claimDueNotifications(db, { limit, leaseSeconds, leaseToken: newSecret(12) });
    // Each in the trace of the work that finalised its payment (src/metrics/trace-context.ts).
    const results = await Promise.allSettled(
      claimed.map((notification) =>
        runInTrace(continueTrace(notification.traceparent), () => deliverNotification(notification)),
      ),
    );
    for (const result of results) {
      // The lease expires and another round retries; nothing is lost.
      if (result.status === 'rejected')
        deps.logger?.warn({ err: result.reason }, 'callback notification failed');
    }
    return claimed.length;
  }

  /**
   * Fetches an `http:` image or stylesheet for the proxy (the URL's signature was checked by the caller).
   * Stylesheets get their own URLs rewritten (relative to the stylesheet), so their http resources are
   * proxied too.
   */
  async function fetchProxiedResource(url: string): Promise<ProxiedResource> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return { ok: false, status: 404, reason: 'not a URL' };
    }
    if (parsed.protocol !== 'http:')
      return { ok: false, status: 404, reason: 'only http: resources are proxied' };
    if (!(await mayDisclose(parsed.href))) {
      return {
        ok: false,
        status: 404,
        reason: 'the address is refused in production; its content is not shown',
      };
    }
    let response: EgressResponse;
    try {
      response = await egress.request({
        url: parsed,
        method: 'GET',
        headers: { accept: 'image/*,text/css;q=0.9' },
        maxResponseBytes: PROXY_MAX_BYTES,
      });
    } catch (error) {
      return { ok: false, status: 502, reason: describeEgressError(error) };
    }
    if (response.status !== 200) return { ok: false, status: 502, reason: `HTTP ${response.status}` };
    if (response.truncated) return { ok: false, status: 502, reason: `larger than ${PROXY_MAX_BYTES} bytes` };
    const mediaType = mediaTypeOf(response.headers);
    if (PROXY_IMAGE_TYPES.has(mediaType)) return { ok: true, contentType: mediaType, body: response.body };
    if (mediaType === 'text/css') {
      const css = rewriteCssUrls(decodeBody(response.headers, response.body), (raw) =>
        rewriteResourceUrl(raw, parsed.href, proxy),
      );
      return { ok: true, contentType: 'text/css; charset=utf-8', body: Buffer.from(css, 'utf8') };
    }
    return {
      ok: false,
      status: 502,
      reason: `content type "${mediaType || 'none'}" is not an image or a stylesheet`,
    };
  }

  return { postCallback, verifyOrder, deliverDueNotifications, fetchProxiedResource };
}
