// @ts-check
import js from '@eslint/js';
import boundaries from 'eslint-plugin-boundaries';
import tseslint from 'typescript-eslint';

/** The top-level folders of src/ other than modules/, each one architectural element. */
const ELEMENT_TYPES = [
  'lib',
  'db',
  'egress',
  'metrics',
  'connectors',
  'outbox',
  'http',
  'dashboard',
  'workers',
  'cli',
  'demo-shop',
];

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', '.kassa/', '.tmp/', 'coverage/', 'bench/results/', 'public/vendor/'],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { console: 'readonly', process: 'readonly', URL: 'readonly', Buffer: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    // A Fastify reply is thenable: `await`ing a function that resolves with one yields `undefined` once it is
    // sent, so a caller that tests the result (`if (await sendX(…))`) always goes on (docs/security.md). Helpers
    // that send resolve with nothing, or with a boolean that says whether they answered.
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    // The demo shop's handlers return the reply to Fastify, which is the documented pattern; none is awaited.
    ignores: ['src/demo-shop/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "TSTypeReference[typeName.name='Promise'] TSTypeReference[typeName.name='FastifyReply']",
          message:
            'Do not resolve with a FastifyReply (it is thenable: awaiting it yields undefined). Resolve with void or a result.',
        },
      ],
    },
  },
  {
    // The arrows of docs/ARCHITECTURE.md, checked on every import in src/: http → modules → (connectors, outbox,
    // egress, db, lib). An element may import only what a policy below allows; anything else fails the lint.
    files: ['src/**/*.ts', 'src/**/*.tsx'],
    plugins: { boundaries },
    settings: {
      'boundaries/root-path': import.meta.dirname,
      'boundaries/include': ['src/**/*'],
      'boundaries/elements': [
        { type: 'module', pattern: 'src/modules/*', capture: ['module'], partialMatch: false },
        ...ELEMENT_TYPES.map((type) => ({ type, pattern: `src/${type}`, partialMatch: false })),
      ],
      'boundaries/files': [
        // The unit of work (in db/) sends a module's queued writes and the outbox's events in one COMMIT.
        { category: 'unit-of-work', pattern: 'src/db/unit-of-work.ts' },
        { category: 'config', pattern: ['src/config.ts', 'src/config/*.ts'], exclusive: true },
        { category: 'repository', pattern: 'src/modules/**/*.repository.ts' },
        // The composition root: builds the services and the app, starts the process, dispatches the CLI.
        { category: 'composition', pattern: 'src/*.ts' },
      ],
    },
    rules: {
      'boundaries/no-unknown-files': 'error',
      'boundaries/dependencies': [
        'error',
        {
          default: 'disallow',
          policies: [
            ...[
              ['lib', ['lib']],
              // The unit of work (db/unit-of-work.ts, below) also writes the outbox's events; the outbox's SQL takes
              // db/queryable.ts, so there is no cycle of files (test/unit/architecture/import-cycles.test.ts).
              ['db', ['db', 'lib']],
              // Observability: the trace context travels on outbound requests.
              ['egress', ['egress', 'lib', 'metrics']],
              ['metrics', ['metrics', 'lib', 'db', 'connectors']],
              ['connectors', ['connectors', 'lib', 'db', 'egress', 'metrics']],
              ['outbox', ['outbox', 'lib', 'db', 'egress', 'metrics']],
              ['module', ['module', 'db', 'lib', 'egress', 'connectors', 'outbox', 'metrics']],
              ['http', ['http', 'module', 'db', 'lib', 'egress', 'connectors', 'outbox', 'metrics']],
              [
                'dashboard',
                ['dashboard', 'http', 'module', 'db', 'lib', 'egress', 'connectors', 'outbox', 'metrics'],
              ],
              ['workers', ['workers', 'module', 'db', 'outbox', 'lib', 'metrics']],
              ['cli', ['cli', 'module', 'db', 'lib']],
              // An example merchant app: it talks to Kassa over HTTP only.
              ['demo-shop', ['demo-shop', 'lib']],
            ].map(([from, to]) => ({
              from: { element: { type: from } },
              allow: { to: { element: { types: { anyOf: to } } } },
            })),
            // A module's repositories (its SQL) are its own: another module goes through its service, which says
            // what others may read and write (docs/ARCHITECTURE.md).
            {
              from: { element: { type: 'module' } },
              disallow: {
                to: {
                  element: { type: 'module', captured: { module: '!{{ from.captured.module }}' } },
                  file: { categories: 'repository' },
                },
              },
            },
            // Known exception, until the callbacks module offers the read in its service: the order timeline
            // lists an order's callback attempts.
            {
              from: { file: { path: 'src/modules/events/order-timeline.service.ts' } },
              allow: { to: { file: { path: 'src/modules/callbacks/callback.repository.ts' } } },
            },
            {
              from: { file: { categories: 'unit-of-work' } },
              allow: { to: { element: { type: 'outbox' } } },
            },
            // Metrics describe the app's request types (type imports only).
            {
              from: { element: { type: 'metrics' } },
              allow: { to: { element: { type: 'http' } }, dependency: { kind: 'type' } },
            },
            // Configuration is read everywhere but in lib, connectors and metrics; it reads the outbox's default
            // retry schedule and the sandbox's fault options.
            {
              from: {
                element: { types: { noneOf: ['lib', 'connectors', 'metrics', 'egress', 'demo-shop'] } },
              },
              allow: { to: { file: { categories: 'config' } } },
            },
            {
              from: { file: { categories: 'config' } },
              allow: { to: { element: { types: { anyOf: ['lib', 'outbox', 'connectors'] } } } },
            },
            // The loader (src/config.ts) and its areas (src/config/*.ts) import each other.
            {
              from: { file: { categories: 'config' } },
              allow: { to: { file: { categories: 'config' } } },
            },
            // Configuration may name the shape a module takes its settings in (type imports only).
            {
              from: { file: { categories: 'config' } },
              allow: { to: { element: { type: 'module' } } },
              dependency: { kind: 'type' },
            },
            // Routes and workers receive the service container (its type); only the composition root builds it.
            {
              from: { element: { types: { anyOf: ['http', 'dashboard', 'workers'] } } },
              allow: { to: { file: { categories: 'composition' } }, dependency: { kind: 'type' } },
            },
            {
              from: { element: { type: 'cli' } },
              allow: { to: { file: { categories: { anyOf: ['composition'] } } } },
            },
            {
              from: { file: { categories: 'composition' } },
              allow: { to: { element: { types: { anyOf: [...ELEMENT_TYPES, 'module'] } } } },
            },
            {
              from: { file: { categories: 'composition' } },
              allow: { to: { file: { categories: { anyOf: ['config', 'composition'] } } } },
            },
          ],
        },
      ],
    },
  },
  {
    // The CLI, the benchmark runner and browser scripts talk to a terminal or the page on purpose.
    files: [
      'src/cli.ts',
      'src/main.ts',
      'bench/**',
      'public/**',
      'bin/**',
      'test/**',
      'scripts/**',
      'packages/*/scripts/**',
    ],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['public/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', fetch: 'readonly' } },
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
