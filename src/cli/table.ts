import type { CommandSpec, OptionSpec } from './spec.ts';
import { DEVELOPER_COMMANDS } from './developer-commands.ts';

/**
 * Every `kassa` command: its name, help and options, and a loader that imports its module only when it runs.
 * Nothing here may import anything at load time (the table is read for every `--help` and every usage error);
 * `load` must use a literal `import('…')` so the build rewrites its path.
 *
 * A new command is one entry here plus one module in commands/. Nested commands go in `subcommands`, other
 * names in `aliases` (e.g. a renamed command keeps its old name as an alias).
 */
/** The options many commands take, written once so that every command's help says them the same way. */
const MERCHANT_OPTION: OptionSpec = {
  type: 'string',
  valueName: 'ID',
  required: true,
  description: 'the merchant id (mer_…)',
};
const JSON_RESULT_OPTION: OptionSpec = { type: 'boolean', description: 'print the result as JSON' };

export const COMMANDS: CommandSpec[] = [
  {
    name: 'serve',
    summary: 'Start the gateway (embedded PostgreSQL unless DATABASE_URL is set)',
    description:
      'Opens the database (starting the embedded PostgreSQL under KASSA_DATA_DIR unless DATABASE_URL is set),\n' +
      'applies pending migrations, listens on HOST:PORT and runs the background workers until SIGTERM / SIGINT.',
    load: () => import('./commands/serve.ts').then((module) => module.serve),
  },
  {
    name: 'migrate',
    summary: 'Apply pending database migrations',
    description:
      'Applies every pending migration, whatever KASSA_AUTO_MIGRATE says: run it as its own job before the new\n' +
      'release starts, with a DATABASE_URL whose role may change the schema (docs/operations.md, "Upgrades").',
    load: () => import('./commands/migrate.ts').then((module) => module.migrate),
    subcommands: [
      {
        name: 'status',
        summary: 'List every migration: applied or pending, and any edited since it was applied',
        description: 'Changes nothing. Exits 1 when an applied migration was edited (its checksum differs).',
        options: { json: { type: 'boolean', description: 'print the list as JSON' } },
        load: () => import('./commands/migrate.ts').then((module) => module.migrateStatus),
      },
    ],
  },
  {
    name: 'backup',
    summary: 'Copy the embedded database (and its development master key) into a folder',
    description:
      'A consistent copy of the embedded PostgreSQL data folder: online while a gateway runs (between\n' +
      'pg_backup_start and pg_backup_stop, with its WAL), or plain with it stopped. A configured\n' +
      "KASSA_MASTER_KEY is not copied: keep it separately. With DATABASE_URL, use the server's own tools\n" +
      '(docs/operations.md, "Backups").',
    options: {
      to: {
        type: 'string',
        valueName: 'DIR',
        description: 'a new or empty folder (default: ./kassa-backup-<time>)',
      },
    },
    load: () => import('./commands/backup.ts').then((module) => module.backup),
  },
  {
    name: 'restore',
    summary: 'Replace the embedded database with a backup (the gateway must be stopped)',
    description:
      'Moves the current data aside (pg.before-restore-<time>), copies the backup in, and restores its master\n' +
      'key. Refused while a gateway or its server uses KASSA_DATA_DIR. Start the gateway afterwards.',
    options: {
      from: {
        type: 'string',
        valueName: 'DIR',
        required: true,
        description: 'the folder kassa backup wrote',
      },
    },
    load: () => import('./commands/backup.ts').then((module) => module.restore),
  },
  {
    name: 'merchant',
    summary: 'Manage merchants',
    subcommands: [
      {
        name: 'create',
        summary: 'Create a merchant with a client id, client secret and secret API key',
        description: 'The secrets are printed once, now; Kassa keeps only their hashes.',
        options: {
          name: {
            type: 'string',
            valueName: 'NAME',
            required: true,
            description: "the merchant's name (1–200 characters)",
          },
          live: { type: 'boolean', description: 'a live-mode merchant (default: test mode)' },
          'card-data': {
            type: 'boolean',
            description: 'let it send raw card data to POST /v1/payments (the Processor API; PCI DSS scope)',
          },
          json: JSON_RESULT_OPTION,
        },
        load: () => import('./commands/merchant.ts').then((module) => module.createMerchant),
      },
      {
        name: 'update',
        summary: "Change a merchant's operator settings: whether it may send raw card data",
        description: 'Running gateways apply the change within 1 second.',
        arguments: [{ name: 'ID', description: 'the merchant id (mer_…)' }],
        options: {
          'card-data': {
            type: 'string',
            valueName: 'on|off',
            required: true,
            description: 'allow (on) or refuse (off) raw card data on POST /v1/payments',
          },
        },
        load: () => import('./commands/merchant.ts').then((module) => module.updateMerchant),
      },
    ],
  },
  {
    name: 'user',
    summary: 'Manage the people who sign in to the dashboard',
    subcommands: [
      {
        name: 'create',
        summary: 'Create a dashboard user for a merchant (prints a generated password when none is given)',
        description:
          'Roles: owner (everything, people, live credentials), developer (credentials, webhooks, settings),\n' +
          'support (orders, captures, voids, refunds), viewer (read only). Passwords: at least 12 characters.',
        options: {
          merchant: MERCHANT_OPTION,
          email: {
            type: 'string',
            valueName: 'EMAIL',
            required: true,
            description: 'the e-mail to sign in with',
          },
          role: {
            type: 'string',
            valueName: 'owner|developer|support|viewer',
            required: true,
            description: "the person's role",
          },
          password: {
            type: 'string',
            valueName: 'PASSWORD',
            description: 'at least 12 characters (default: a random one, printed once)',
          },
          json: JSON_RESULT_OPTION,
        },
        load: () => import('./commands/user.ts').then((module) => module.createDashboardUser),
      },
      {
        name: 'reset-2fa',
        summary: "Switch off a person's two-factor authentication (a lost phone); signs them out everywhere",
        description:
          'Removes the authenticator secret and the recovery codes and ends every session of the person.\n' +
          'An owner is asked to set two-factor up again at the next sign-in. Name the person by one of\n' +
          '--email or --user.',
        options: {
          email: { type: 'string', valueName: 'EMAIL', description: 'the e-mail the person signs in with' },
          user: { type: 'string', valueName: 'ID', description: 'the dashboard user id (usr_…)' },
          json: JSON_RESULT_OPTION,
        },
        load: () => import('./commands/user.ts').then((module) => module.resetDashboardUserTwoFactor),
      },
    ],
  },
  {
    name: 'api-keys',
    summary: "Manage a merchant's API keys",
    subcommands: [
      {
        name: 'list',
        summary: "List a merchant's API keys (not revoked), both modes",
        options: {
          merchant: MERCHANT_OPTION,
          json: JSON_RESULT_OPTION,
        },
        load: () => import('./commands/api-keys.ts').then((module) => module.listKeys),
      },
      {
        name: 'create',
        summary: 'Create a secret key (every scope) or a restricted key (the scopes you choose)',
        description: 'The key is printed once, now; Kassa keeps only its hash.',
        options: {
          merchant: MERCHANT_OPTION,
          live: { type: 'boolean', description: 'a live-mode key (default: test mode)' },
          type: { type: 'string', valueName: 'secret|restricted', description: 'default: secret' },
          scopes: {
            type: 'string',
            valueName: 'LIST',
            description: 'restricted keys: comma-separated scopes, e.g. checkouts,orders:read',
          },
          name: { type: 'string', valueName: 'NAME', description: 'a name to recognise the key by' },
          json: JSON_RESULT_OPTION,
        },
        load: () => import('./commands/api-keys.ts').then((module) => module.createKey),
      },
      {
        name: 'roll',
        summary: 'Replace a key with a new one; the old one works for an overlap',
        arguments: [{ name: 'KEY', description: 'the key id (key_…) or the key itself (sk_… / rk_…)' }],
        options: {
          'expire-previous-in-seconds': {
            type: 'string',
            valueName: 'N',
            description: 'how long the old key keeps working (default 86400; 0: stop it now)',
          },
          json: JSON_RESULT_OPTION,
        },
        load: () => import('./commands/api-keys.ts').then((module) => module.rollKey),
      },
      {
        name: 'revoke',
        summary: 'Revoke an API key (or an OAuth client) now',
        description: 'Every gateway refuses it within 1 second.',
        arguments: [
          {
            name: 'KEY',
            description: 'the key id (key_…), the key itself (sk_… / rk_…) or a client id (cli_…)',
          },
        ],
        load: () => import('./commands/api-keys.ts').then((module) => module.revokeKey),
      },
    ],
  },
  {
    name: 'audit-log',
    summary: "Read a merchant's audit trail",
    subcommands: [
      {
        name: 'list',
        summary: 'Credential changes, secret rotations and dashboard sign-ins, newest first',
        options: {
          merchant: {
            type: 'string',
            valueName: 'ID',
            required: false,
            description: 'the merchant id (mer_…); without it, the entries that concern no one merchant',
          },
          action: {
            type: 'string',
            valueName: 'ACTION',
            description: 'only this action (api_key.revoked) or family (api_key.*)',
          },
          limit: {
            type: 'string',
            valueName: 'N',
            description: 'how many entries (default 50, at most 1000)',
          },
          'starting-after': {
            type: 'string',
            valueName: 'ID',
            description: 'the last entry (aud_…) of the previous page',
          },
          json: JSON_RESULT_OPTION,
        },
        load: () => import('./commands/audit-log.ts').then((module) => module.listAuditLog),
      },
    ],
  },
  {
    name: 'credentials',
    summary: 'Manage OAuth clients and API keys',
    subcommands: [
      {
        name: 'revoke',
        summary: 'Revoke an OAuth client (cli_…) or an API key (key_…, sk_…, rk_…)',
        description: 'The same as `kassa api-keys revoke`. Every gateway refuses it within 1 second.',
        arguments: [
          { name: 'ID', description: 'the client id (cli_…), the key id (key_…) or the key itself' },
        ],
        load: () => import('./commands/api-keys.ts').then((module) => module.revokeKey),
      },
    ],
  },
  {
    name: 'master-key',
    summary: 'Manage the master key',
    subcommands: [
      {
        name: 'rotate',
        summary:
          'Re-seal every stored secret under KASSA_MASTER_KEY (old values open with KASSA_MASTER_KEY_PREVIOUS)',
        description:
          'Batch by batch, restart-safe: stop it at any time and run it again to continue. Exit status 3 while values remain under another key.',
        options: {
          'batch-size': { type: 'string', valueName: 'N', description: 'rows per transaction (default 500)' },
          json: { type: 'boolean', description: 'print the report as JSON' },
        },
        load: () => import('./commands/master-key.ts').then((module) => module.rotateMasterKeyCommand),
      },
    ],
  },
  {
    name: 'signing-keys',
    aliases: ['keys'],
    summary: 'Manage the access-token signing keys',
    subcommands: [
      {
        name: 'rotate',
        summary: 'Start signing access tokens with a new key (old tokens stay valid)',
        load: () => import('./commands/keys.ts').then((module) => module.rotateSigningKey),
      },
    ],
  },
  ...DEVELOPER_COMMANDS,
];
