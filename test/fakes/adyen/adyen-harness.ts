import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { adyenProcessor, type AdyenCredentials } from '../../../src/connectors/adyen/index.ts';
import type { Connector, ConnectorStatusUpdate, OperationResult } from '../../../src/connectors/connector.ts';
import { ProcessorWebhookError, type ProcessorNotification } from '../../../src/connectors/processor.ts';
import { compileEgressPolicy, createEgressClient, type EgressClient } from '../../../src/egress/index.ts';
import { startFakeAdyen, type FakeAdyen } from './fake-adyen.ts';

/**
 * The fake Adyen, a loopback receiver for its webhooks that verifies them with `adyenProcessor.verifyWebhook`
 * exactly as Kassa's webhook route does, and connectors built for an account on the fake.
 */
export type AdyenHarness = {
  fake: FakeAdyen;
  credentials: AdyenCredentials;
  accountId: string;
  /** Verified notifications, in arrival order (duplicates included: deduplication is the consumer's job). */
  notifications: ProcessorNotification[];
  /** Refused deliveries: the reason `verifyWebhook` gave. */
  refused: string[];
  /** Authorization notifications as the status updates Kassa applies from them. */
  received: ConnectorStatusUpdate[];
  webhookUrl: string;
  connector(options?: { responseTimeoutMs?: number; livemode?: boolean }): Connector;
  /** Waits for the webhook that decides a pending modification and answers the final result. */
  decision(result: OperationResult, timeoutMs?: number): Promise<OperationResult>;
  close(): Promise<void>;
};

export async function startAdyenHarness(
  options: {
    /** Adyen's "multiple partial captures" on at the fake, and stated on the account (`multiple_captures`). */
    multiplePartialCaptures?: boolean;
  } = {},
): Promise<AdyenHarness> {
  const multiplePartialCaptures = options.multiplePartialCaptures ?? false;
  const fake = await startFakeAdyen({ multiplePartialCaptures });
  const accountId = `pa_${randomBytes(16).toString('hex')}`;
  const credentials: AdyenCredentials = {
    api_key: fake.apiKey,
    merchant_account: fake.merchantAccount,
    hmac_key: fake.hmacKey,
  };
  const notifications: ProcessorNotification[] = [];
  const refused: string[] = [];
  const received: ConnectorStatusUpdate[] = [];
  const waiters = new Set<() => void>();

  const receiver: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        const verified = adyenProcessor.verifyWebhook({
          rawBody: Buffer.concat(chunks),
          headers: Object.fromEntries(
            Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
          ),
          credentials,
          livemode: false,
          now: new Date(),
        });
        for (const notification of verified.notifications) {
          notifications.push(notification);
          if (
            notification.kind === 'authorization' &&
            notification.status !== 'captured' &&
            notification.paymentId
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
        response.writeHead(200, { 'content-type': verified.acknowledgement.contentType });
        response.end(verified.acknowledgement.body);
        for (const wake of waiters) wake();
      } catch (error) {
        refused.push(error instanceof ProcessorWebhookError ? error.reason : String(error));
        response.writeHead(
          error instanceof ProcessorWebhookError && error.reason === 'malformed' ? 400 : 401,
        );
        response.end();
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const webhookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/v1/processor-webhooks/${accountId}`;
  fake.setWebhookUrl(webhookUrl);

  const egressClients: EgressClient[] = [];

  async function decision(result: OperationResult, timeoutMs = 10_000): Promise<OperationResult> {
    if (result.status !== 'pending') return result;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = notifications.find(
        (n) => n.kind !== 'authorization' && n.operationReference === result.operationReference,
      );
      if (found && found.kind !== 'authorization') {
        if (found.connectorReference !== result.connectorReference) {
          throw new Error(`the decision of ${result.operationReference} names another payment`);
        }
        return found.status === 'succeeded'
          ? {
              status: 'succeeded',
              connectorReference: result.connectorReference,
              operationReference: result.operationReference,
            }
          : {
              status: 'failed',
              connectorReference: result.connectorReference,
              operationReference: result.operationReference,
              failureCode: found.failureCode ?? 'invalid_state',
              message: 'Adyen refused the modification',
            };
      }
      if (Date.now() > deadline) throw new Error(`no webhook decided ${result.operationReference}`);
      await new Promise<void>((resolve) => {
        const wake = () => {
          waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, 50);
        waiters.add(wake);
      });
    }
  }

  return {
    fake,
    credentials,
    accountId,
    notifications,
    refused,
    received,
    webhookUrl,
    connector(connectorOptions = {}) {
      const egress = createEgressClient({
        policy: compileEgressPolicy({ mode: 'development', allowList: [] }),
        ...(connectorOptions.responseTimeoutMs
          ? { responseTimeoutMs: connectorOptions.responseTimeoutMs }
          : {}),
      });
      egressClients.push(egress);
      return adyenProcessor.createConnector(credentials, {
        accountId,
        livemode: connectorOptions.livemode ?? false,
        apiBaseUrl: fake.url,
        multipleCaptures: multiplePartialCaptures,
        egress,
        notify: async () => {
          throw new Error('the Adyen connector reports through webhooks, never through notify');
        },
      });
    },
    decision,
    async close() {
      await fake.close();
      await Promise.all(egressClients.map((client) => client.close()));
      receiver.closeAllConnections();
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    },
  };
}
