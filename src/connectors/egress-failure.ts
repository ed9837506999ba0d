import { EgressError } from '../egress/index.ts';
import { ConnectorError } from './connector.ts';

/**
 * What a processor call's transport failure means for a connector's caller, the same for every processor: the
 * egress client (`src/egress/`) reports how a request failed, and whether sending it again with the same
 * idempotency key is safe follows from that alone.
 *
 * - No complete answer after the request left (`response_timeout`, a `protocol_error` that broke the answer
 *   off): `timeout` — the processor may have acted, so only the same key may be retried.
 * - Never reached (DNS, connect, TLS): `unavailable`, retryable.
 * - Refused by the egress policy before anything was sent (`blocked_url`, `blocked_address`, `invalid_request`):
 *   `invalid_request` — the gateway's own configuration is wrong; retrying changes nothing.
 *
 * Anything that is not an `EgressError` is treated as "not reached".
 */
export function connectorErrorOfEgressFailure(
  error: unknown,
  context: { processor: string; connectorId: string },
): ConnectorError {
  const { processor, connectorId } = context;
  const fail = (code: ConnectorError['code'], message: string) =>
    new ConnectorError(code, message, { connectorId, cause: error });
  if (!(error instanceof EgressError)) return fail('unavailable', `${processor} could not be reached`);
  switch (error.kind) {
    case 'response_timeout':
      return fail('timeout', `${processor} did not answer in time`);
    case 'protocol_error':
      return fail('timeout', `The answer from ${processor} broke off`);
    case 'connect_timeout':
    case 'connection_failed':
    case 'dns_failure':
    case 'tls_failure':
      return fail('unavailable', `${processor} could not be reached (${error.kind})`);
    case 'blocked_url':
    case 'blocked_address':
    case 'invalid_request':
      return fail('invalid_request', `The egress policy refused the ${processor} API URL: ${error.message}`);
    default: {
      const unreachable: never = error.kind;
      return fail('unavailable', `${processor} could not be reached (${String(unreachable)})`);
    }
  }
}
