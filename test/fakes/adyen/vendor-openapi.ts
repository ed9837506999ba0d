/**
 * Copies the parts of Adyen's published OpenAPI documents (MIT, see openapi/LICENSE) that the Adyen connector
 * and its fake use into `openapi/`, so the tests validate against Adyen's own schemas without the full files.
 * Run again when the connector uses more of the API:
 *   node --import tsx test/fakes/adyen/vendor-openapi.ts ../shared/reference/providers && npx prettier --write test/fakes/adyen/openapi
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

type Document = { openapi: string; info: unknown; components: { schemas: Record<string, unknown> } };

const source = process.argv[2];
if (!source) throw new Error('usage: vendor-openapi.ts <folder with the Adyen OpenAPI documents>');
const target = new URL('./openapi/', import.meta.url);

/** Every schema reachable from `roots`, following `#/components/schemas/...` references. */
function closure(document: Document, roots: readonly string[]): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (name in kept) continue;
    const schema = document.components.schemas[name];
    if (schema === undefined) throw new Error(`No schema ${name}`);
    kept[name] = schema;
    for (const match of JSON.stringify(schema).matchAll(/"#\/components\/schemas\/([^"]+)"/g))
      queue.push(match[1]!);
  }
  return Object.fromEntries(Object.entries(kept).sort(([a], [b]) => a.localeCompare(b)));
}

function vendor(file: string, output: string, roots: readonly string[]) {
  const document = JSON.parse(readFileSync(join(source!, file), 'utf8')) as Document;
  const subset = {
    $comment: `A subset of Adyen's ${file} (MIT licence, openapi/LICENSE): the schemas Kassa's Adyen connector uses`,
    openapi: document.openapi,
    info: document.info,
    components: { schemas: closure(document, roots) },
  };
  writeFileSync(new URL(output, target), `${JSON.stringify(subset, null, 2)}\n`);
}

vendor('adyen-CheckoutService-v71.json', 'adyen-checkout-v71.subset.json', [
  'PaymentRequest',
  'PaymentResponse',
  'PaymentDetailsRequest',
  'PaymentDetailsResponse',
  'PaymentCaptureRequest',
  'PaymentCaptureResponse',
  'PaymentCancelRequest',
  'PaymentCancelResponse',
  'PaymentRefundRequest',
  'PaymentRefundResponse',
  'ServiceError',
]);
vendor('adyen-Webhooks-v1.json', 'adyen-webhooks-v1.subset.json', [
  'AuthorisationNotificationRequest',
  'CaptureNotificationRequest',
  'CancellationNotificationRequest',
  'RefundNotificationRequest',
  'RefundCaptureFailedNotificationRequest',
]);
writeFileSync(new URL('LICENSE', target), readFileSync(join(source, 'adyen-openapi-LICENSE')));
