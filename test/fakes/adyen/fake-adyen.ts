import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  signAdyenNotificationItem,
  type AdyenNotificationItem,
  type AdyenNotificationRequest,
} from '../../../src/connectors/adyen/adyen.webhook.ts';
import { checkoutViolations, NOTIFICATION_SCHEMA_BY_EVENT, webhookViolations } from './adyen-schemas.ts';

/**
 * A stateful fake of Adyen's Checkout API v71 on 127.0.0.1 (a random port), for tests only: it keeps payments
 * and their modifications, honours `Idempotency-Key` (a replay answers the stored response; a concurrent
 * request with a key still in progress gets 422 / 704, as Adyen answers), runs Adyen's test cards, decides
 * captures, cancels and refunds asynchronously and reports every outcome as an HMAC-signed Standard webhook.
 *
 * Every request it receives is validated against Adyen's OpenAPI document and every notification it sends
 * against Adyen's webhook document; a violation is answered 422 and kept in `violations`, which a test
 * asserts empty.
 */

export const FAKE_ADYEN_CARDS = {
  /** Adyen's Visa test card: authorised. */
  authorised: '4111111145551142',
  /** Refused ("Refused", refusal code 2). */
  refused: '4000020000000000',
  /** Adyen's Visa 3-D Secure 2 card: a challenge, here on the fake's redirect page. */
  challenge: '4917610000000000',
} as const;

/** Holder names the fake treats specially (a fake convention; Adyen's test platform has similar ones). */
export const FAKE_ADYEN_HOLDER_NAMES = {
  /** The payment is `Received`: decided later through `settlePending`. */
  pending: 'PENDING',
  /** With the challenge card: the redirect is a POST form (as some issuers' pages need). */
  postRedirect: 'POST REDIRECT',
  /** `resultCode: Error`: Adyen failed to process the payment. */
  error: 'ERROR',
} as const;

/** Refusal reasons a holder name selects on any card (Adyen's texts and codes). */
const REFUSAL_BY_HOLDER: Readonly<Record<string, { reason: string; code: string }>> = {
  'NOT ENOUGH BALANCE': { reason: 'Not enough balance', code: '12' },
  'CVC DECLINED': { reason: 'CVC Declined', code: '24' },
  'EXPIRED CARD': { reason: 'Expired Card', code: '6' },
  FRAUD: { reason: 'FRAUD', code: '20' },
};

type PaymentState = 'Authorised' | 'Refused' | 'Received' | 'RedirectShopper' | 'Cancelled' | 'Error';

export type FakeAdyenPayment = {
  pspReference: string;
  merchantReference: string;
  amount: { currency: string; value: number };
  state: PaymentState;
  refusal?: { reason: string; code: string };
  returnUrl: string;
  redirectMethod: 'GET' | 'POST';
  captured: number;
  refunded: number;
  /** The request's body as received, card fields masked. */
  request: Record<string, unknown>;
};

export type FakeAdyenModification = {
  pspReference: string;
  paymentPspReference: string;
  kind: 'captures' | 'cancels' | 'refunds';
  amount: { currency: string; value: number };
  success: boolean;
  reason?: string;
};

export type FakeAdyenRequestLog = {
  path: string;
  idempotencyKey: string | undefined;
  body: unknown;
};

export type FakeAdyenFaults = {
  /** Answer the next `times` requests with this status, before acting on them. */
  failWith?: { status: number; times: number };
  /** Act on requests, then answer after this many ms (a client with a shorter timeout loses the answer). */
  answerDelayMs?: number;
  /** Refuse raw card fields as Adyen does for a credential without the PCI role. */
  refuseRawCardData?: boolean;
};

export type FakeAdyen = {
  /** The origin to give the connector as its API base URL. */
  url: string;
  apiKey: string;
  merchantAccount: string;
  hmacKey: string;
  /** Request bodies or notifications that did not validate against Adyen's documents. */
  violations: string[];
  requests: FakeAdyenRequestLog[];
  /** Every notification request sent, in order. */
  sent: AdyenNotificationRequest[];
  payments: Map<string, FakeAdyenPayment>;
  modifications: Map<string, FakeAdyenModification>;
  setWebhookUrl(url: string | undefined): void;
  setFaults(faults: FakeAdyenFaults): void;
  /** Decides a `Received` payment and sends its AUTHORISATION webhook. */
  settlePending(pspReference: string, outcome: 'authorized' | 'declined'): Promise<void>;
  /** Sends CAPTURE_FAILED / REFUND_FAILED for a modification that had succeeded (the bank refused later). */
  failLater(modificationPspReference: string, reason: string): Promise<void>;
  /** Sends an already sent notification again, unchanged (a duplicate delivery). */
  redeliver(index: number): Promise<void>;
  /** Resolves when every notification queued so far was delivered (or given up). */
  drain(): Promise<void>;
  paymentsFor(merchantReference: string): FakeAdyenPayment[];
  close(): Promise<void>;
};

const ERROR_BODY = (status: number, errorCode: string, message: string, errorType = 'validation') => ({
  status,
  errorCode,
  message,
  errorType,
});

export async function startFakeAdyen(
  options: {
    apiKey?: string;
    merchantAccount?: string;
    hmacKey?: string;
    webhookUrl?: string;
    /** A live merchant account: notifications say `live: "true"`. Default false. */
    live?: boolean;
    /**
     * Adyen's per-merchant-account "multiple partial captures". Off (Adyen's default): the first capture that
     * succeeds releases the rest, and every later capture is refused by its CAPTURE webhook (`success: false`).
     */
    multiplePartialCaptures?: boolean;
  } = {},
): Promise<FakeAdyen> {
  const apiKey = options.apiKey ?? `AQE_fake_${randomBytes(8).toString('hex')}`;
  const merchantAccount = options.merchantAccount ?? 'KassaTestECOM';
  const hmacKey = options.hmacKey ?? randomBytes(32).toString('hex').toUpperCase();
  let webhookUrl = options.webhookUrl;
  let faults: FakeAdyenFaults = {};
  const violations: string[] = [];
  const requests: FakeAdyenRequestLog[] = [];
  const sent: AdyenNotificationRequest[] = [];
  const payments = new Map<string, FakeAdyenPayment>();
  const modifications = new Map<string, FakeAdyenModification>();
  const redirectResults = new Map<string, { pspReference: string; outcome: 'pass' | 'fail' }>();
  const stored = new Map<string, { status: number; body: unknown } | 'in-progress'>();
  let queue: Promise<void> = Promise.resolve();
  let url = '';

  const newPspReference = () => {
    const alphabet = '0123456789ABCDEFGHJKLMNPQRSTUVWXYZ';
    return Array.from(randomBytes(16), (byte) => alphabet[byte % alphabet.length]).join('');
  };

  function notify(item: Omit<AdyenNotificationItem, 'additionalData' | 'eventDate' | 'merchantAccountCode'>) {
    const full: AdyenNotificationItem = {
      ...item,
      merchantAccountCode: merchantAccount,
      eventDate: new Date().toISOString().replace(/\.\d{3}Z$/, '+00:00'),
    };
    full.additionalData = { hmacSignature: signAdyenNotificationItem(full, hmacKey) };
    const request: AdyenNotificationRequest = {
      live: options.live ? 'true' : 'false',
      notificationItems: [{ NotificationRequestItem: full }],
    };
    const schema = NOTIFICATION_SCHEMA_BY_EVENT[item.eventCode];
    if (!schema) violations.push(`the fake sent an event it has no schema for: ${item.eventCode}`);
    else violations.push(...webhookViolations(schema, request).map((v) => `notification ${v}`));
    sent.push(request);
    deliver(request);
  }

  function deliver(request: AdyenNotificationRequest) {
    queue = queue.then(async () => {
      if (!webhookUrl) return;
      const target = new URL(webhookUrl);
      if (target.hostname !== '127.0.0.1' && target.hostname !== '[::1]') {
        violations.push(`refused to send a webhook off loopback: ${target.hostname}`);
        return;
      }
      // Adyen retries until it reads "[accepted]"; a few quick tries are enough here.
      for (let attempt = 0; attempt < 5; attempt++) {
        try {
          const response = await fetch(target, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(request),
          });
          const text = await response.text();
          if (response.ok && text === '[accepted]') return;
        } catch {
          // the receiver is down: try again
        }
        await sleep(20 * (attempt + 1));
      }
    });
  }

  function status(payment: FakeAdyenPayment) {
    return payment.state;
  }

  function authorisationItem(payment: FakeAdyenPayment) {
    const success = payment.state === 'Authorised';
    notify({
      pspReference: payment.pspReference,
      merchantReference: payment.merchantReference,
      amount: payment.amount,
      eventCode: 'AUTHORISATION',
      success: String(success),
      paymentMethod: 'visa',
      ...(success ? {} : { reason: payment.refusal?.reason ?? 'Refused' }),
    });
  }

  function paymentResponse(payment: FakeAdyenPayment) {
    const base = {
      pspReference: payment.pspReference,
      merchantReference: payment.merchantReference,
      amount: payment.amount,
    };
    switch (payment.state) {
      case 'Authorised':
        return { ...base, resultCode: 'Authorised' };
      case 'Refused':
        return {
          ...base,
          resultCode: 'Refused',
          refusalReason: payment.refusal?.reason ?? 'Refused',
          refusalReasonCode: payment.refusal?.code ?? '2',
        };
      case 'Received':
        return { ...base, resultCode: 'Received' };
      case 'Cancelled':
        return { ...base, resultCode: 'Cancelled' };
      case 'Error':
        return { ...base, resultCode: 'Error', refusalReason: 'Acquirer Error', refusalReasonCode: '4' };
      case 'RedirectShopper':
        return {
          ...base,
          resultCode: 'RedirectShopper',
          action: {
            type: 'redirect',
            method: payment.redirectMethod,
            paymentMethodType: 'scheme',
            url: `${url}/threeds/${payment.pspReference}`,
            ...(payment.redirectMethod === 'POST'
              ? { data: { PaReq: 'fake', TermUrl: payment.returnUrl } }
              : {}),
          },
        };
      default: {
        const unreachable: never = payment.state;
        throw new Error(`unknown state ${String(unreachable)}`);
      }
    }
  }

  function createPayment(body: Record<string, unknown>): { status: number; body: unknown } {
    const method = body.paymentMethod as Record<string, string>;
    if (faults.refuseRawCardData && typeof method.number === 'string') {
      return { status: 403, body: ERROR_BODY(403, '010', 'Not allowed', 'security') };
    }
    const amount = body.amount as { currency: string; value: number };
    const holder = (method.holderName ?? '').toUpperCase();
    const payment: FakeAdyenPayment = {
      pspReference: newPspReference(),
      merchantReference: String(body.reference),
      amount,
      state: 'Authorised',
      returnUrl: String(body.returnUrl),
      redirectMethod: holder === FAKE_ADYEN_HOLDER_NAMES.postRedirect ? 'POST' : 'GET',
      captured: 0,
      refunded: 0,
      request: {
        ...body,
        paymentMethod: { ...method, number: `…${String(method.number).slice(-4)}`, cvc: '***' },
      },
    };
    const refusal = REFUSAL_BY_HOLDER[holder];
    if (refusal) Object.assign(payment, { state: 'Refused', refusal });
    else if (holder === FAKE_ADYEN_HOLDER_NAMES.pending) payment.state = 'Received';
    else if (holder === FAKE_ADYEN_HOLDER_NAMES.error) payment.state = 'Error';
    else if (method.number === FAKE_ADYEN_CARDS.refused)
      Object.assign(payment, { state: 'Refused', refusal: { reason: 'Refused', code: '2' } });
    else if (method.number === FAKE_ADYEN_CARDS.challenge) payment.state = 'RedirectShopper';
    else if (method.number !== FAKE_ADYEN_CARDS.authorised)
      Object.assign(payment, { state: 'Refused', refusal: { reason: 'Invalid Card Number', code: '8' } });
    payments.set(payment.pspReference, payment);
    if (payment.state === 'Authorised' || payment.state === 'Refused') authorisationItem(payment);
    return { status: 200, body: paymentResponse(payment) };
  }

  function paymentDetails(body: Record<string, unknown>): { status: number; body: unknown } {
    const redirectResult = (body.details as Record<string, string>).redirectResult;
    const result = redirectResult ? redirectResults.get(redirectResult) : undefined;
    const payment = result ? payments.get(result.pspReference) : undefined;
    if (!result || !payment) {
      return { status: 422, body: ERROR_BODY(422, '14_018', 'Invalid payload provided') };
    }
    if (payment.state === 'RedirectShopper') {
      if (result.outcome === 'pass') payment.state = 'Authorised';
      else
        Object.assign(payment, { state: 'Refused', refusal: { reason: '3D Not Authenticated', code: '11' } });
      authorisationItem(payment);
    }
    return { status: 200, body: paymentResponse(payment) };
  }

  function modify(
    kind: FakeAdyenModification['kind'],
    paymentPspReference: string,
    body: Record<string, unknown>,
  ): { status: number; body: unknown } {
    const payment = payments.get(paymentPspReference);
    if (!payment) {
      return {
        status: 422,
        body: ERROR_BODY(422, '167', 'Original pspReference required for this operation'),
      };
    }
    const amount = (body.amount as { currency: string; value: number } | undefined) ?? payment.amount;
    const modification: FakeAdyenModification = {
      pspReference: newPspReference(),
      paymentPspReference,
      kind,
      amount,
      success: true,
    };
    // Decided now, in arrival order; reported only by the webhook, as Adyen does.
    const refuse = (reason: string) => Object.assign(modification, { success: false, reason });
    if (amount.currency !== payment.amount.currency) {
      refuse('Currency of the modification does not match the payment');
    } else if (kind === 'captures') {
      if (payment.state !== 'Authorised') refuse('Payment is not in a state that can be captured');
      else if (payment.captured + amount.value > payment.amount.value)
        refuse('Capture amount exceeds the authorised amount');
      else if (payment.captured > 0 && !options.multiplePartialCaptures)
        refuse('The remaining amount was released by the first capture');
      else payment.captured += amount.value;
    } else if (kind === 'cancels') {
      if (payment.state !== 'Authorised' || payment.captured > 0)
        refuse('Payment is not in a state that can be cancelled');
      else payment.state = 'Cancelled';
    } else if (payment.refunded + amount.value > payment.captured) {
      refuse('Refund amount exceeds the captured amount');
    } else {
      payment.refunded += amount.value;
    }
    modifications.set(modification.pspReference, modification);
    notify({
      pspReference: modification.pspReference,
      originalReference: paymentPspReference,
      merchantReference: payment.merchantReference,
      amount,
      eventCode: kind === 'captures' ? 'CAPTURE' : kind === 'cancels' ? 'CANCELLATION' : 'REFUND',
      success: String(modification.success),
      paymentMethod: 'visa',
      ...(modification.reason ? { reason: modification.reason } : {}),
    });
    return {
      status: 201,
      body: {
        merchantAccount,
        paymentPspReference,
        pspReference: modification.pspReference,
        status: 'received',
        ...(kind === 'cancels' ? {} : { amount }),
      },
    };
  }

  function route(path: string):
    | {
        schema: string;
        response: string;
        act: (body: Record<string, unknown>) => { status: number; body: unknown };
      }
    | undefined {
    if (path === '/v71/payments')
      return { schema: 'PaymentRequest', response: 'PaymentResponse', act: createPayment };
    if (path === '/v71/payments/details')
      return { schema: 'PaymentDetailsRequest', response: 'PaymentDetailsResponse', act: paymentDetails };
    const match = /^\/v71\/payments\/([^/]+)\/(captures|cancels|refunds)$/.exec(path);
    if (!match) return undefined;
    const kind = match[2] as FakeAdyenModification['kind'];
    const names = { captures: 'Capture', cancels: 'Cancel', refunds: 'Refund' } as const;
    return {
      schema: `Payment${names[kind]}Request`,
      response: `Payment${names[kind]}Response`,
      act: (body) => modify(kind, decodeURIComponent(match[1]!), body),
    };
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const requestUrl = new URL(request.url ?? '/', url);
    const send = (statusCode: number, body: unknown) => {
      response.writeHead(statusCode, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (request.method === 'GET' && requestUrl.pathname.startsWith('/threeds/')) {
      return challengePage(requestUrl, response);
    }
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const target = request.method === 'POST' ? route(requestUrl.pathname) : undefined;
    if (!target) return send(404, ERROR_BODY(404, '000', 'Not found', 'internal'));
    if (request.headers['x-api-key'] !== apiKey) {
      return send(401, ERROR_BODY(401, '000', 'HTTP Status Response - Unauthorized', 'security'));
    }
    const idempotencyKey = request.headers['idempotency-key'] as string | undefined;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
    } catch {
      violations.push(`${requestUrl.pathname}: the body is not JSON`);
      return send(400, ERROR_BODY(400, '702', 'Structure is invalid'));
    }
    requests.push({ path: requestUrl.pathname, idempotencyKey, body });
    const problems = checkoutViolations(target.schema, body).map((v) => `${requestUrl.pathname}: ${v}`);
    if (idempotencyKey !== undefined && idempotencyKey.length > 64) {
      problems.push(`${requestUrl.pathname}: Idempotency-Key longer than 64 characters`);
    }
    if ((body.merchantAccount ?? merchantAccount) !== merchantAccount) {
      return send(403, ERROR_BODY(403, '901', 'Invalid Merchant Account', 'security'));
    }
    if (problems.length > 0) {
      violations.push(...problems);
      return send(422, ERROR_BODY(422, '702', problems.join('; ')));
    }
    if (faults.failWith && faults.failWith.times > 0) {
      faults.failWith.times -= 1;
      return send(
        faults.failWith.status,
        ERROR_BODY(faults.failWith.status, '905', 'Payment details are not supported', 'internal'),
      );
    }
    const key =
      idempotencyKey === undefined ? undefined : `${requestUrl.pathname.split('/')[2]}:${idempotencyKey}`;
    const previous = key === undefined ? undefined : stored.get(key);
    if (previous === 'in-progress') {
      return send(422, ERROR_BODY(422, '704', 'request already processed or in progress'));
    }
    let answer = previous;
    if (!answer) {
      if (key !== undefined) stored.set(key, 'in-progress');
      await sleep(5); // processing takes a moment: concurrent requests with one key overlap
      answer = target.act(body);
      if (key !== undefined) {
        // Like Adyen, only processed requests are kept; a refused one may be sent again.
        if (answer.status < 400) stored.set(key, answer);
        else stored.delete(key);
      }
    }
    const responseProblems = answer.status < 300 ? checkoutViolations(target.response, answer.body) : [];
    violations.push(...responseProblems.map((v) => `fake response ${v}`));
    if (faults.answerDelayMs) await sleep(faults.answerDelayMs);
    send(answer.status, answer.body);
  }

  function challengePage(requestUrl: URL, response: ServerResponse) {
    const [, , pspReference, step] = requestUrl.pathname.split('/');
    const payment = pspReference ? payments.get(pspReference) : undefined;
    if (!payment || payment.state !== 'RedirectShopper') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('No such challenge');
      return;
    }
    if (step === 'complete') {
      const outcome = requestUrl.searchParams.get('outcome') === 'pass' ? 'pass' : 'fail';
      const redirectResult = randomBytes(24).toString('base64url');
      redirectResults.set(redirectResult, { pspReference: payment.pspReference, outcome });
      const back = new URL(payment.returnUrl);
      back.searchParams.set('redirectResult', redirectResult);
      response.writeHead(302, { location: back.href }).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(
      `<!doctype html><title>Fake Adyen 3-D Secure</title><h1>3-D Secure challenge</h1>
<p>Amount ${payment.amount.value} ${payment.amount.currency}</p>
<a id="pass" href="/threeds/${payment.pspReference}/complete?outcome=pass">Authenticate</a>
<a id="fail" href="/threeds/${payment.pspReference}/complete?outcome=fail">Fail authentication</a>`,
    );
  }

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      violations.push(`fake crashed: ${String(error)}`);
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url,
    apiKey,
    merchantAccount,
    hmacKey,
    violations,
    requests,
    sent,
    payments,
    modifications,
    setWebhookUrl(next) {
      webhookUrl = next;
    },
    setFaults(next) {
      faults = { ...next, ...(next.failWith ? { failWith: { ...next.failWith } } : {}) };
    },
    async settlePending(pspReference, outcome) {
      const payment = payments.get(pspReference);
      if (!payment || status(payment) !== 'Received') throw new Error(`${pspReference} is not pending`);
      if (outcome === 'authorized') payment.state = 'Authorised';
      else
        Object.assign(payment, { state: 'Refused', refusal: { reason: 'Not enough balance', code: '12' } });
      authorisationItem(payment);
      await queue;
    },
    async failLater(modificationPspReference, reason) {
      const modification = modifications.get(modificationPspReference);
      const payment = modification ? payments.get(modification.paymentPspReference) : undefined;
      if (!modification || !payment || !modification.success || modification.kind === 'cancels') {
        throw new Error(`${modificationPspReference} is not a successful capture or refund`);
      }
      modification.success = false;
      if (modification.kind === 'captures') payment.captured -= modification.amount.value;
      else payment.refunded -= modification.amount.value;
      notify({
        pspReference: modification.pspReference,
        originalReference: payment.pspReference,
        merchantReference: payment.merchantReference,
        amount: modification.amount,
        eventCode: modification.kind === 'captures' ? 'CAPTURE_FAILED' : 'REFUND_FAILED',
        success: 'true',
        reason,
      });
      await queue;
    },
    async redeliver(index) {
      const request = sent[index];
      if (!request) throw new Error(`no notification ${index}`);
      deliver(request);
      await queue;
    },
    drain: () => queue,
    paymentsFor: (merchantReference) =>
      [...payments.values()].filter((p) => p.merchantReference === merchantReference),
    async close() {
      webhookUrl = undefined;
      await queue;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
