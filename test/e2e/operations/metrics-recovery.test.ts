/**
 * The processor-error and recovery series (docs/operations.md#monitoring) move on a real lost answer: a
 * capture whose sandbox answer times out is counted `error_timeout`, and its settlement by the recovery
 * worker is counted under `captures`. Time moves by hand past the recovery delay.
 */
import type { MetricValueWithName } from 'prom-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PROCESSING_RECOVERY_MS } from '../../../src/modules/payments/payment-flow.service.ts';
import { createTestApp, type TestApp, type TestMerchant } from '../../fixtures/test-app.ts';
import { createManualClock } from '../checkouts/checkout-fixtures.ts';
import { authorizedPayment, post } from '../payments/payment-fixtures.ts';

let t: TestApp;
let merchant: TestMerchant;
const clock = createManualClock(new Date());

beforeAll(async () => {
  t = await createTestApp({ clock });
  merchant = await t.createMerchant();
});
afterAll(async () => {
  await t?.close();
});

async function sample(name: string, labels: Record<string, string>): Promise<number> {
  const metric = await t.services.metrics.registry.getSingleMetric(name)!.get();
  const found = metric.values.find((value) =>
    Object.entries(labels).every(([key, expected]) => value.labels[key] === expected),
  );
  return found?.value ?? 0;
}

// Histograms report their count under the `_count` suffix.
const countOf = async (labels: Record<string, string>) => {
  const metric = await t.services.metrics.registry
    .getSingleMetric('kassa_processor_call_duration_seconds')!
    .get();
  return (
    metric.values.find(
      (value) =>
        (value as MetricValueWithName<string>).metricName === 'kassa_processor_call_duration_seconds_count' &&
        Object.entries(labels).every(([key, expected]) => value.labels[key] === expected),
    )?.value ?? 0
  );
};

it('counts a timed-out capture and the recovery that settles it', async () => {
  const authorized = await authorizedPayment(t, merchant, { amount: 1000 });
  expect(await countOf({ processor: 'sandbox', operation: 'capture', result: 'error_timeout' })).toBe(0);
  t.services.sandbox.setFaults({ timeoutMs: 5 });
  const response = await post(t, merchant, `/v1/payments/${authorized.id}/capture`, { amount: 600 });
  t.services.sandbox.setFaults({});
  expect(response.statusCode).toBe(202);
  expect(await countOf({ processor: 'sandbox', operation: 'capture', result: 'error_timeout' })).toBe(1);

  clock.advance(PROCESSING_RECOVERY_MS / 1000 + 1);
  const settled = await t.services.payments.recover();
  expect(settled.captures).toBe(1);
  expect(await sample('kassa_recovery_actions_total', { action: 'captures' })).toBe(1);
  expect(await countOf({ processor: 'sandbox', operation: 'capture', result: 'succeeded' })).toBe(1);
});
