import { GATEWAY_OPTIONS } from './gateway-client-options.ts';
import type { CommandSpec } from './spec.ts';
import { TRIGGER_TYPES } from './trigger-types.ts';

/**
 * The developer commands of the `kassa` table (src/cli/table.ts): they talk to a running gateway over its API
 * with a merchant's key, never to the database. Plain data, like the rest of the table: their modules load only
 * when they run.
 */
export const DEVELOPER_COMMANDS: CommandSpec[] = [
  {
    name: 'listen',
    summary: "Forward the merchant's events, signed like webhooks, to a local URL",
    description:
      'Follows GET /v1/events/stream and POSTs each event to --forward-to with the body and Standard Webhooks\n' +
      'headers of a webhook delivery, signed with the secret printed at start (or --secret). Prints each attempt:\n' +
      'time, event type and id, the status answered, the latency. Runs until ^C; resumes after a lost connection.',
    options: {
      'forward-to': {
        type: 'string',
        valueName: 'URL',
        required: true,
        description: 'where to POST each event (e.g. http://localhost:4000/webhooks)',
      },
      events: { type: 'string', valueName: 'TYPES', description: 'only these event types, comma-separated' },
      secret: {
        type: 'string',
        valueName: 'whsec_…',
        description: 'the signing secret to use (default: a new one, printed at start)',
      },
      ...GATEWAY_OPTIONS,
    },
    load: () => import('./commands/listen.ts').then((module) => module.listen),
  },
  {
    name: 'trigger',
    summary: 'Produce an event through a real sandbox flow (test mode)',
    description:
      'Creates a checkout and pays, cancels, captures or refunds it through the public API and the hosted\n' +
      'payment page with the sandbox test cards, then waits for the event. Needs a test-mode key holding the\n' +
      'checkouts, orders, payments and webhooks:read scopes (a secret key sk_test_… holds them all). Event types:\n  ' +
      TRIGGER_TYPES.join(', ')
        .replace(/(.{1,100})(, |$)/g, '$1,\n  ')
        .replace(/,\n {2}$/, ''),
    arguments: [{ name: 'EVENT_TYPE', description: 'one of the event types listed above' }],
    options: { ...GATEWAY_OPTIONS },
    load: () => import('./commands/trigger.ts').then((module) => module.trigger),
  },
  {
    name: 'events',
    summary: "Follow the merchant's events",
    subcommands: [
      {
        name: 'tail',
        summary: 'Print the events as they happen (until ^C)',
        options: {
          events: {
            type: 'string',
            valueName: 'TYPES',
            description: 'only these event types, comma-separated',
          },
          json: { type: 'boolean', description: 'print each event object as one line of JSON' },
          ...GATEWAY_OPTIONS,
        },
        load: () => import('./commands/events.ts').then((module) => module.tailEvents),
      },
    ],
  },
  {
    name: 'payments',
    summary: 'Look at payments',
    subcommands: [
      {
        name: 'get',
        summary: 'Print a payment (GET /v1/payments/{id})',
        arguments: [{ name: 'ID', description: 'the payment id (pay_…)' }],
        options: {
          json: { type: 'boolean', description: 'print the JSON as the API answers it' },
          ...GATEWAY_OPTIONS,
        },
        load: () => import('./commands/payments.ts').then((module) => module.getPayment),
      },
    ],
  },
];
