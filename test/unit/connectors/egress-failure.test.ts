import { describe, expect, it } from 'vitest';

import { connectorErrorOfEgressFailure } from '../../../src/connectors/egress-failure.ts';
import { EgressError, type EgressErrorKind } from '../../../src/egress/index.ts';

/**
 * One mapping of transport failures for every processor connector: whether the same request may be sent again
 * follows from how it failed, never from which processor it was for.
 */
const EXPECTED: Record<EgressErrorKind, { code: string; retryable: boolean }> = {
  response_timeout: { code: 'timeout', retryable: true },
  protocol_error: { code: 'timeout', retryable: true },
  connect_timeout: { code: 'unavailable', retryable: true },
  connection_failed: { code: 'unavailable', retryable: true },
  dns_failure: { code: 'unavailable', retryable: true },
  tls_failure: { code: 'unavailable', retryable: true },
  blocked_url: { code: 'invalid_request', retryable: false },
  blocked_address: { code: 'invalid_request', retryable: false },
  invalid_request: { code: 'invalid_request', retryable: false },
};

describe('connectorErrorOfEgressFailure', () => {
  for (const processor of ['Stripe', 'Adyen']) {
    it(`maps every egress failure kind the same way for ${processor}`, () => {
      for (const [kind, expected] of Object.entries(EXPECTED)) {
        const cause = new EgressError(kind as EgressErrorKind, 'The request failed', 'https://example.test');
        const error = connectorErrorOfEgressFailure(cause, { processor, connectorId: 'pa_1' });
        expect({ kind, code: error.code, retryable: error.retryable }).toEqual({ kind, ...expected });
        expect(error.connectorId).toBe('pa_1');
        expect(error.cause).toBe(cause);
        expect(error.message).toContain(processor);
      }
    });
  }

  it('treats anything else as not reached', () => {
    const error = connectorErrorOfEgressFailure(new TypeError('fetch failed'), {
      processor: 'Adyen',
      connectorId: 'pa_2',
    });
    expect(error).toMatchObject({
      code: 'unavailable',
      retryable: true,
      message: 'Adyen could not be reached',
    });
  });
});
