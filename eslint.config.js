// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    // The CLI, the benchmark runner and browser scripts talk to a terminal or the page on purpose.
    files: ['src/cli.ts', 'src/main.ts', 'bench/**', 'public/**', 'bin/**', 'test/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['public/**/*.js'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', fetch: 'readonly' } },
    rules: { '@typescript-eslint/no-unused-expressions': 'off' },
  },
);
