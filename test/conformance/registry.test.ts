import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConnectorError, toAppError, type Connector } from '../../src/connectors/connector.ts';
import { createConnectorRegistry } from '../../src/connectors/registry.ts';
import {
  createSandboxConnector,
  type SandboxConnector,
} from '../../src/connectors/sandbox/sandbox.connector.ts';
import { AppError } from '../../src/lib/errors.ts';
import { newId } from '../../src/lib/ids.ts';
import { createTestDatabase, type TestDatabase } from '../fixtures/database.ts';

/** Stands in for an external live processor: the registry only reads its id and capabilities. */
function liveProcessor(id: string): Connector {
  const unused = () => Promise.reject(new Error('not called in these tests'));
  return {
    id,
    capabilities: {
      methods: ['card'],
      livemode: true,
      partialCapture: true,
      multipleCaptures: false,
      partialRefund: true,
    },
    authorize: unused,
    sale: unused,
    getPaymentStatus: unused,
    lookupPayment: unused,
    capture: unused,
    void: unused,
    refund: unused,
  };
}

describe('connector registry', () => {
  let database: TestDatabase;
  let sandbox: SandboxConnector;
  beforeAll(async () => {
    database = await createTestDatabase();
    sandbox = createSandboxConnector({
      db: database.pool,
      notify: async () => {},
      publicBaseUrl: 'http://127.0.0.1:3000',
    });
  });
  afterAll(async () => {
    await database?.close();
  });

  it('serves test mode with the sandbox, which really authorises', async () => {
    const registry = createConnectorRegistry({ connectors: [sandbox], testConnectorId: 'sandbox' });
    const connector = registry.connectorFor({ livemode: false });
    expect(connector).toBe(sandbox);
    expect(registry.get('sandbox')).toBe(sandbox);
    const result = await connector.authorize({
      idempotencyKey: randomUUID(),
      paymentId: newId('pay'),
      amount: 100,
      currency: 'USD',
      livemode: false,
      method: {
        type: 'card',
        card: {
          number: '4242424242424242',
          expMonth: 12,
          expYear: new Date().getUTCFullYear() + 2,
          cvc: '123',
          holderName: 'A',
        },
      },
      returnUrl: 'http://127.0.0.1:3000/return',
    });
    expect(result.status).toBe('authorized');
  });

  it('refuses live mode when no live processor is configured, with a coded error', () => {
    const registry = createConnectorRegistry({ connectors: [sandbox], testConnectorId: 'sandbox' });
    let thrown: unknown;
    try {
      registry.connectorFor({ livemode: true });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).code).toBe('livemode_not_allowed');
    expect((thrown as AppError).message).toMatch(/sandbox acquirer serves test mode only/);
  });

  it('refuses, at startup, to make the sandbox the live connector', () => {
    expect(() =>
      createConnectorRegistry({
        connectors: [sandbox],
        testConnectorId: 'sandbox',
        liveConnectorId: 'sandbox',
      }),
    ).toThrow(/cannot serve live mode/);
  });

  it('routes live mode to a live-capable connector and keeps every connector reachable by id', () => {
    const live = liveProcessor('acme');
    const registry = createConnectorRegistry({
      connectors: [sandbox, live],
      testConnectorId: 'sandbox',
      liveConnectorId: 'acme',
    });
    expect(registry.connectorFor({ livemode: true })).toBe(live);
    expect(registry.connectorFor({ livemode: false })).toBe(sandbox);
    expect(registry.list().map((connector) => connector.id)).toEqual(['sandbox', 'acme']);
  });

  it('refuses unknown and duplicate ids', () => {
    expect(() => createConnectorRegistry({ connectors: [sandbox], testConnectorId: 'nope' })).toThrow(/nope/);
    expect(() =>
      createConnectorRegistry({ connectors: [sandbox, sandbox], testConnectorId: 'sandbox' }),
    ).toThrow(/twice/);
    const registry = createConnectorRegistry({ connectors: [sandbox], testConnectorId: 'sandbox' });
    expect(() => registry.get('acme')).toThrow(/acme/);
  });
});

describe('ConnectorError', () => {
  it('is retryable for timeouts and unavailability only, unless told otherwise', () => {
    const make = (code: ConnectorError['code']) => new ConnectorError(code, 'x', { connectorId: 'sandbox' });
    expect(make('timeout').retryable).toBe(true);
    expect(make('unavailable').retryable).toBe(true);
    expect(make('processor_error').retryable).toBe(false);
    expect(make('invalid_request').retryable).toBe(false);
    expect(new ConnectorError('processor_error', 'x', { connectorId: 'a', retryable: true }).retryable).toBe(
      true,
    );
  });

  it('maps onto the API error catalogue without leaking the processor message', () => {
    const expectations = {
      timeout: 'connector_timeout',
      unavailable: 'connector_error',
      processor_error: 'connector_error',
      invalid_request: 'internal_error',
    } as const;
    for (const [code, appCode] of Object.entries(expectations)) {
      const appError = toAppError(
        new ConnectorError(code as ConnectorError['code'], 'db.internal:5432 said no', { connectorId: 'a' }),
      );
      expect(appError.code).toBe(appCode);
      expect(appError.message).not.toContain('5432');
    }
  });
});
