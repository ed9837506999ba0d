import { readFileSync } from 'node:fs';

import Ajv2020Module from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { ValidateFunction } from 'ajv';

/**
 * Validators built from Adyen's own OpenAPI documents (the vendored subsets in `openapi/`, MIT): the fake checks
 * every request the connector sends and every notification it sends itself against them.
 */

// CommonJS modules seen from ESM: the default import is `module.exports`, whose `default` is the class / plugin.
const Ajv2020 = ((Ajv2020Module as unknown as { default?: unknown }).default ??
  Ajv2020Module) as unknown as typeof Ajv2020Module.default;
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as typeof addFormatsModule.default;

type Subset = { components: { schemas: Record<string, unknown> } };

function load(file: string): Subset {
  return JSON.parse(readFileSync(new URL(`./openapi/${file}`, import.meta.url), 'utf8')) as Subset;
}

function compile(subset: Subset, id: string) {
  // Adyen writes `int32`/`int64` formats and `x-…` keywords; ajv-formats knows the formats, strict off ignores the rest.
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  ajv.addSchema({ $id: id, components: subset.components });
  const cache = new Map<string, ValidateFunction>();
  return (schemaName: string, value: unknown): string[] => {
    let validate = cache.get(schemaName);
    if (!validate) {
      validate = ajv.compile({ $ref: `${id}#/components/schemas/${schemaName}` });
      cache.set(schemaName, validate);
    }
    if (validate(value)) return [];
    return (validate.errors ?? []).map(
      (error) =>
        `${schemaName}${error.instancePath} ${error.message ?? 'is invalid'} ${JSON.stringify(error.params)}`,
    );
  };
}

let checkout: ReturnType<typeof compile> | undefined;
let webhooks: ReturnType<typeof compile> | undefined;

/** Errors of `value` against a schema of Adyen's Checkout API v71 (empty: valid). */
export function checkoutViolations(schemaName: string, value: unknown): string[] {
  checkout ??= compile(load('adyen-checkout-v71.subset.json'), 'https://kassa.test/adyen-checkout-v71.json');
  return checkout(schemaName, value);
}

/** Errors of `value` against a schema of Adyen's Webhooks v1 (empty: valid). */
export function webhookViolations(schemaName: string, value: unknown): string[] {
  webhooks ??= compile(load('adyen-webhooks-v1.subset.json'), 'https://kassa.test/adyen-webhooks-v1.json');
  return webhooks(schemaName, value);
}

/** The webhook schema Adyen documents for each event code the fake sends. */
export const NOTIFICATION_SCHEMA_BY_EVENT: Readonly<Record<string, string>> = {
  AUTHORISATION: 'AuthorisationNotificationRequest',
  CAPTURE: 'CaptureNotificationRequest',
  CAPTURE_FAILED: 'RefundCaptureFailedNotificationRequest',
  CANCELLATION: 'CancellationNotificationRequest',
  REFUND: 'RefundNotificationRequest',
  REFUND_FAILED: 'RefundCaptureFailedNotificationRequest',
};
