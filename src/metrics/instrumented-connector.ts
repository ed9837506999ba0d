import { ConnectorError, type Connector } from '../connectors/connector.ts';
import type { Metrics } from './metrics.ts';

/**
 * The same connector, with every processor call timed and counted in `kassa_processor_call_duration_seconds`
 * by processor, operation and result. Wrapping at the composition root keeps metrics out of the payment
 * pipelines and out of each connector; the result label is the normalised answer status (`authorized`,
 * `declined`, `succeeded`, …, `ok` for status reads) or `error_<ConnectorError code>`.
 */
export function instrumentConnector(
  connector: Connector,
  metrics: Pick<Metrics, 'processorCalls'>,
): Connector {
  function timed<Request, Result>(
    operation: string,
    call: (request: Request) => Promise<Result>,
    resultOf: (result: Result) => string,
  ): (request: Request) => Promise<Result> {
    return async (request) => {
      const stop = metrics.processorCalls.startTimer({ processor: connector.id, operation });
      try {
        const result = await call(request);
        stop({ result: resultOf(result) });
        return result;
      } catch (error) {
        stop({ result: error instanceof ConnectorError ? `error_${error.code}` : 'error_internal' });
        throw error;
      }
    };
  }
  const status = (result: { status: string }) => result.status;
  return {
    id: connector.id,
    capabilities: connector.capabilities,
    authorize: timed('authorize', (request) => connector.authorize(request), status),
    sale: timed('sale', (request) => connector.sale(request), status),
    getPaymentStatus: timed(
      'get_payment_status',
      (request) => connector.getPaymentStatus(request),
      () => 'ok',
    ),
    lookupPayment: timed(
      'lookup_payment',
      (request) => connector.lookupPayment(request),
      (found) => (found ? 'ok' : 'not_found'),
    ),
    capture: timed('capture', (request) => connector.capture(request), status),
    void: timed('void', (request) => connector.void(request), status),
    refund: timed('refund', (request) => connector.refund(request), status),
    ...(connector.completeAction
      ? {
          completeAction: timed(
            'complete_action',
            (request: Parameters<NonNullable<Connector['completeAction']>>[0]) =>
              connector.completeAction!(request),
            () => 'ok',
          ),
        }
      : {}),
  };
}
