import { parseArgs, type ParseArgsConfig } from 'node:util';
import { runAsSystem } from '../lib/actor-context.ts';
import { describeOperationalError, UsageError } from './errors.ts';
import { print } from './output.ts';
import { commandHelp, topLevelHelp } from './help.ts';
import type { CommandSpec } from './spec.ts';
import { COMMANDS } from './table.ts';

/**
 * The `kassa` dispatcher: finds the command in the table (names, aliases, nested commands), answers
 * `--help` / `-h` / `kassa help …` from the table, checks options and arguments (node:util parseArgs,
 * strict), and only then imports the command's module and runs it. Errors end the process as
 * src/cli/errors.ts describes.
 */

type Resolved = { path: string[]; chain: CommandSpec[]; rest: string[] };

function find(commands: CommandSpec[], name: string) {
  return commands.find((command) => command.name === name || command.aliases?.includes(name));
}

/** Walks the command names at the start of `argv`; what follows them is the command's own arguments. */
function resolve(commands: CommandSpec[], argv: string[]): Resolved {
  const path: string[] = [];
  const chain: CommandSpec[] = [];
  let candidates = commands;
  let rest = argv;
  while (rest.length > 0 && !rest[0]!.startsWith('-') && candidates.length > 0) {
    const next = find(candidates, rest[0]!);
    const current = chain.at(-1);
    if (!next) {
      // Not a subcommand: an argument of the current command if it takes one, else a wrong name.
      if (current?.load && current.arguments?.length) break;
      throw new UsageError(`unknown command: ${[...path, rest[0]].join(' ')}`, path);
    }
    path.push(next.name);
    chain.push(next);
    candidates = next.subcommands ?? [];
    rest = rest.slice(1);
  }
  return { path, chain, rest };
}

function helpRequested(args: string[]) {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((arg) => arg === '--help' || arg === '-h');
}

/** The usage shown for a command path (the top level for an empty or unknown one). */
export function usageFor(path: string[], commands: CommandSpec[] = COMMANDS): string {
  let command: CommandSpec | undefined;
  let candidates = commands;
  for (const name of path) {
    command = find(candidates, name);
    if (!command) return topLevelHelp(commands);
    candidates = command.subcommands ?? [];
  }
  return command ? commandHelp(path, command) : topLevelHelp(commands);
}

function parseOptions(path: string[], command: CommandSpec, args: string[]) {
  const options: ParseArgsConfig['options'] = {};
  for (const [name, option] of Object.entries(command.options ?? {})) {
    options[name] = option.type === 'boolean' ? { type: 'boolean', default: false } : { type: 'string' };
    if (option.short) options[name].short = option.short;
  }
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: true }) as typeof parsed;
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code?.startsWith('ERR_PARSE_ARGS_')) throw new UsageError((error as Error).message, path);
    throw error;
  }
  const expected = command.arguments ?? [];
  if (parsed.positionals.length > expected.length) {
    throw new UsageError(`unexpected argument: ${parsed.positionals[expected.length]}`, path);
  }
  const missingArgument = expected[parsed.positionals.length];
  if (missingArgument) throw new UsageError(`${path.join(' ')} needs ${missingArgument.name}`, path);
  for (const [name, option] of Object.entries(command.options ?? {})) {
    if (option.required && parsed.values[name] === undefined) {
      throw new UsageError(`${path.join(' ')} needs --${name} ${option.valueName ?? 'VALUE'}`, path);
    }
  }
  return { options: parsed.values, args: parsed.positionals };
}

/**
 * Runs the command `argv` names from the table `commands` (the real one, or a test's). Throws UsageError for a
 * wrong command line; whatever the command throws passes through.
 */
export async function dispatch(argv: string[], commands: CommandSpec[] = COMMANDS): Promise<void> {
  if (argv[0] === 'help') {
    const { path, chain, rest } = resolve(commands, argv.slice(1));
    if (rest.length > 0) throw new UsageError(`unknown command: ${[...path, ...rest].join(' ')}`, path);
    const command = chain.at(-1);
    print(command ? commandHelp(path, command) : topLevelHelp(commands));
    return;
  }
  const { path, chain, rest } = resolve(commands, argv);
  const command = chain.at(-1);
  if (helpRequested(rest)) {
    print(command ? commandHelp(path, command) : topLevelHelp(commands));
    return;
  }
  if (!command) {
    if (rest.length === 0) {
      print(topLevelHelp(commands));
      return;
    }
    throw new UsageError(`unknown option: ${rest[0]}`, path);
  }
  if (!command.load) {
    const names = (command.subcommands ?? []).map((subcommand) => subcommand.name).join(', ');
    throw new UsageError(
      rest.length === 0 ? `${path.join(' ')} needs a command: ${names}` : `unknown option: ${rest[0]}`,
      path,
    );
  }
  const input = parseOptions(path, command, rest);
  const run = await command.load();
  // What a command changes (events, audit entries) names the command line as its actor; a server's own
  // requests and workers set theirs.
  if (path[0] === 'serve') await run(input);
  else await runAsSystem('cli', () => run(input));
}

/** Runs the `kassa` command line `argv` (without node and the script), ending the process on an error. */
export async function runCli(argv: string[]): Promise<void> {
  try {
    await dispatch(argv);
  } catch (error) {
    process.exit(await report(error));
  }
}

async function report(error: unknown): Promise<number> {
  if (error instanceof UsageError) {
    console.error(`kassa: ${error.message}\n\n${usageFor(error.commandPath)}`);
    return 2;
  }
  // Loaded only now: a command that failed has read the configuration already; --help never does.
  const { ConfigError } = await import('../config.ts');
  if (error instanceof ConfigError) {
    console.error(`kassa: ${error.message}`);
    return 1;
  }
  const line = describeOperationalError(error);
  if (line) {
    console.error(`kassa: ${line}`);
    return 1;
  }
  console.error('kassa: failed (this is a bug in Kassa; the stack below helps to report it):', error);
  return 1;
}
