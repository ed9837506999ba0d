/**
 * A Stripe connector wired to the fake Stripe through a real egress client (development policy: loopback
 * allowed), plus a loopback receiver for the fake's signed webhooks that verifies them with the Stripe
 * processor module — the same path `POST /v1/processor-webhooks/{account id}` takes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import type { Connector, ConnectorStatusUpdate } from '../../../src/connectors/connector.ts';
import type { ProcessorNotification } from '../../../src/connectors/processor.ts';
import { STRIPE_API_VERSION, stripeProcessor } from '../../../src/connectors/stripe/index.ts';
import { compileEgressPolicy, createEgressClient, type EgressClient } from '../../../src/egress/index.ts';
import { startFakeStripe, type FakeStripe, type FakeStripeOptions } from './fake-stripe.ts';

export const TEST_WEBHOOK_SECRET = 'whsec_kassaTestSigningSecret0123456789';

export type StripeTestRig = {
  fake: FakeStripe;
  connector: Connector;
  egress: EgressClient;
  /** Notifications the webhook receiver verified, in arrival order. */
  notifications: ProcessorNotification[];
  /** Authorization notifications as the payment flow's notify sink would receive them. */
  received: ConnectorStatusUpdate[];
  /** What the receiver answered, per delivery. */
  answers: { status: number; body: string }[];
  webhookUrl: string;
  close(): Promise<void>;
};

export async function startStripeTestRig(
  options: {
    accountId?: string;
    responseTimeoutMs?: number;
    fake?: Partial<FakeStripeOptions>;
  } = {},
): Promise<StripeTestRig> {
  const fake = await startFakeStripe({ apiVersion: STRIPE_API_VERSION, ...options.fake });
  const egress = createEgressClient({
    policy: compileEgressPolicy({ mode: 'development', allowList: [] }),
    responseTimeoutMs: options.responseTimeoutMs ?? 10_000,
  });
  const accountId = options.accountId ?? 'pa_stripe_test';
  const credentials = { secret_key: fake.secretKey, webhook_secret: TEST_WEBHOOK_SECRET };
  const notifications: ProcessorNotification[] = [];
  const received: ConnectorStatusUpdate[] = [];
  const answers: StripeTestRig['answers'] = [];
  const connector = stripeProcessor.createConnector(credentials, {
    accountId,
    livemode: fake.secretKey.startsWith('sk_live_'),
    apiBaseUrl: fake.url,
    egress,
    notify: async (update) => {
      received.push(update);
    },
  });

  const receiver: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers: Record<string, string | undefined> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      try {
        const verified = stripeProcessor.verifyWebhook({
          rawBody: Buffer.concat(chunks),
          headers,
          credentials,
          livemode: fake.secretKey.startsWith('sk_live_'),
          now: new Date(),
        });
        for (const notification of verified.notifications) {
          notifications.push(notification);
          if (
            notification.kind === 'authorization' &&
            notification.paymentId &&
            notification.status !== 'captured'
          ) {
            received.push({
              notificationId: notification.eventId,
              connectorId: accountId,
              connectorReference: notification.connectorReference,
              paymentId: notification.paymentId,
              status: notification.status,
              ...(notification.declineCode ? { declineCode: notification.declineCode } : {}),
              occurredAt: notification.occurredAt,
            });
          }
        }
        answers.push({ status: 200, body: verified.acknowledgement.body });
        response.writeHead(200, { 'content-type': verified.acknowledgement.contentType });
        response.end(verified.acknowledgement.body);
      } catch (error) {
        const reason = (error as { reason?: string }).reason ?? 'error';
        const status = reason === 'malformed' ? 400 : 401;
        answers.push({ status, body: reason });
        response.writeHead(status).end(reason);
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/processor-webhooks/${accountId}`;
  fake.setWebhookEndpoint(webhookUrl, TEST_WEBHOOK_SECRET);

  return {
    fake,
    connector,
    egress,
    notifications,
    received,
    answers,
    webhookUrl,
    async close() {
      await fake.close();
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
      await egress.close();
    },
  };
}

export function testCard(
  number: string,
  overrides: { cvc?: string; expMonth?: number; expYear?: number } = {},
) {
  return {
    type: 'card' as const,
    card: {
      number,
      expMonth: 12,
      expYear: new Date().getUTCFullYear() + 3,
      cvc: '987',
      holderName: 'Ada Lovelace',
      ...overrides,
    },
  };
}
