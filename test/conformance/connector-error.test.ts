import { describe, expect, it } from 'vitest';

import { ConnectorError, toAppError } from '../../src/connectors/connector.ts';

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
