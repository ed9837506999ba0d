/**
 * Which processors a merchant can connect (`POST /v1/processor-accounts` → `processor`), each by the
 * `ProcessorModule` its folder exports. Adding a processor is one line in `createProcessorModules`.
 */

import { z } from 'zod';
import type { Connector } from './connector.ts';
import { ProcessorWebhookError, type ProcessorModule, type ProcessorName } from './processor.ts';
import { adyenProcessor } from './adyen/index.ts';
import { stripeProcessor } from './stripe/index.ts';

/** A module with its credentials type erased: what the registry and the routes hold. */
export type AnyProcessorModule = ProcessorModule<Record<string, string>>;

export type ProcessorModules = Partial<Record<ProcessorName, AnyProcessorModule>>;

/**
 * The built-in sandbox acquirer as a processor account (test mode only, no credentials): a merchant who wants
 * to test routing or priorities without a real processor. Every sandbox account shares the one sandbox
 * ledger; its connector carries the account's id so payments remember which account took them.
 */
export function sandboxProcessorModule(sandbox: Connector): AnyProcessorModule {
  return {
    name: 'sandbox',
    credentialsSchema: z.record(z.string(), z.string()).refine((value) => Object.keys(value).length === 0, {
      message: 'must be empty ({}): the sandbox takes no credentials',
    }),
    secretFields: [],
    // The sandbox never moves real money: whatever the mode, it is a test processor.
    impliedLivemode: () => false,
    webhookSecretField: 'webhook_secret',
    multipleCaptures: true,
    createConnector: (_credentials, context) => ({ ...sandbox, id: context.accountId }),
    verifyWebhook() {
      throw new ProcessorWebhookError('malformed', 'The sandbox sends no processor webhooks');
    },
  };
}

/** Every processor this build can connect. `sandbox` is the built-in acquirer's connector. */
export function createProcessorModules(options: { sandbox: Connector }): ProcessorModules {
  return {
    sandbox: sandboxProcessorModule(options.sandbox),
    stripe: stripeProcessor,
    adyen: adyenProcessor,
  };
}
