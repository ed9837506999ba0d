import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { dispatch, usageFor } from '../../../src/cli/dispatch.ts';
import { UsageError } from '../../../src/cli/errors.ts';
import type { CommandInput, CommandSpec } from '../../../src/cli/spec.ts';

/**
 * The dispatcher on a table shaped like the commands still to come: nested subcommands (`api-keys list`),
 * a renamed group keeping its old name as an alias (`keys rotate` for `signing-keys rotate`), and a command
 * that both runs and has subcommands (`migrate`, `migrate status`). The real table's commands are covered
 * end to end in cli.test.ts.
 */

describe('the kassa dispatcher', () => {
  const ran: Array<{ command: string; input: CommandInput }> = [];
  const loaded: string[] = [];
  const command = (name: string) => () => {
    loaded.push(name);
    return Promise.resolve(async (input: CommandInput) => {
      ran.push({ command: name, input });
    });
  };
  const table: CommandSpec[] = [
    {
      name: 'migrate',
      summary: 'Apply pending migrations',
      load: command('migrate'),
      subcommands: [{ name: 'status', summary: 'List migrations', load: command('migrate status') }],
    },
    {
      name: 'api-keys',
      summary: 'Manage API keys',
      subcommands: [
        {
          name: 'list',
          summary: 'List API keys',
          options: { merchant: { type: 'string', valueName: 'ID', required: true, description: 'whose' } },
          load: command('api-keys list'),
        },
        {
          name: 'revoke',
          summary: 'Revoke an API key',
          arguments: [{ name: 'ID', description: 'the key' }],
          options: { force: { type: 'boolean', short: 'f', description: 'even the last one' } },
          load: command('api-keys revoke'),
        },
      ],
    },
    {
      name: 'signing-keys',
      aliases: ['keys'],
      summary: 'Manage signing keys',
      subcommands: [
        { name: 'rotate', summary: 'Rotate the signing key', load: command('signing-keys rotate') },
      ],
    },
  ];

  let stdout = '';
  beforeEach(() => {
    ran.length = 0;
    loaded.length = 0;
    stdout = '';
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      stdout += String(chunk);
      return true;
    });
  });
  afterEach(() => vi.restoreAllMocks());

  const usageErrorOf = (argv: string[]) =>
    dispatch(argv, table).then(
      () => undefined,
      (error: unknown) => (error instanceof UsageError ? error : Promise.reject(error)),
    );

  it('runs nested subcommands with their options and arguments', async () => {
    await dispatch(['api-keys', 'list', '--merchant', 'mer_1'], table);
    await dispatch(['api-keys', 'revoke', '-f', 'key_1'], table);
    expect(ran).toEqual([
      { command: 'api-keys list', input: { options: { merchant: 'mer_1' }, args: [] } },
      { command: 'api-keys revoke', input: { options: { force: true }, args: ['key_1'] } },
    ]);
  });

  it('runs a command by its alias, and its help names both', async () => {
    await dispatch(['keys', 'rotate'], table);
    expect(ran.map((run) => run.command)).toEqual(['signing-keys rotate']);
    await dispatch(['keys', '--help'], table);
    expect(stdout).toMatch(/^Usage: kassa signing-keys <command>\nAlso: kassa keys\n/);
    expect(stdout).toMatch(/\n {2}rotate +Rotate the signing key\n/);
  });

  it('runs a command that also has subcommands, and each of them', async () => {
    await dispatch(['migrate'], table);
    await dispatch(['migrate', 'status'], table);
    expect(ran.map((run) => run.command)).toEqual(['migrate', 'migrate status']);
    expect((await usageErrorOf(['migrate', 'statsu']))?.message).toBe('unknown command: migrate statsu');
  });

  it('answers --help anywhere in the arguments without loading the command', async () => {
    for (const argv of [
      ['api-keys', 'list', '--help'],
      ['api-keys', 'list', '--merchant', 'mer_1', '-h'],
      ['api-keys', 'revoke', '--nonsense', '--help'],
      ['help', 'api-keys', 'list'],
    ]) {
      stdout = '';
      await dispatch(argv, table);
      expect(stdout, argv.join(' ')).toMatch(
        /^Usage: kassa api-keys (list --merchant ID|revoke \[--force\] ID)\n/,
      );
    }
    expect(loaded).toEqual([]);
    expect(ran).toEqual([]);
  });

  it('refuses wrong command lines before loading anything, naming the command whose usage applies', async () => {
    const cases: Array<[string[], string, string[]]> = [
      [['api-keys'], 'api-keys needs a command: list, revoke', ['api-keys']],
      [['api-keys', 'lst'], 'unknown command: api-keys lst', ['api-keys']],
      [['api-keys', 'list'], 'api-keys list needs --merchant ID', ['api-keys', 'list']],
      [['api-keys', 'revoke'], 'api-keys revoke needs ID', ['api-keys', 'revoke']],
      [['api-keys', 'revoke', 'key_1', 'key_2'], 'unexpected argument: key_2', ['api-keys', 'revoke']],
      [
        ['api-keys', 'list', '--merchant'],
        "Option '--merchant <value>' argument missing",
        ['api-keys', 'list'],
      ],
      [['--verbose'], 'unknown option: --verbose', []],
    ];
    for (const [argv, message, commandPath] of cases) {
      const error = await usageErrorOf(argv);
      expect(error?.message, argv.join(' ')).toBe(message);
      expect(error?.commandPath, argv.join(' ')).toEqual(commandPath);
    }
    expect(loaded).toEqual([]);
    expect(usageFor(['api-keys', 'revoke'], table)).toMatch(/^Usage: kassa api-keys revoke \[--force\] ID\n/);
    expect(usageFor([], table)).toMatch(/^Usage: kassa <command>/);
  });
});
