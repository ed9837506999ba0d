import type { CommandSpec, OptionSpec } from './spec.ts';

/** Usage and help texts, built from the command table alone. */

const COLUMN = 42;

function row(left: string, right: string) {
  const indented = `  ${left}`;
  return indented.length < COLUMN - 1
    ? `${indented.padEnd(COLUMN)}${right}`
    : `${indented}\n${' '.repeat(COLUMN)}${right}`;
}

function optionSynopsis(name: string, option: OptionSpec) {
  const text = option.type === 'string' ? `--${name} ${option.valueName ?? 'VALUE'}` : `--${name}`;
  return option.required ? text : `[${text}]`;
}

/** `merchant create --name NAME [--live] [--json]`: the command path, its options and its arguments. */
export function synopsis(path: string[], command: CommandSpec): string {
  const options = Object.entries(command.options ?? {}).map(([name, option]) => optionSynopsis(name, option));
  const args = (command.arguments ?? []).map((argument) => argument.name);
  return [...path, ...options, ...args].join(' ');
}

/** Every runnable command under `commands`, with its path. */
function runnable(commands: CommandSpec[], parent: string[] = []): Array<[string[], CommandSpec]> {
  return commands.flatMap((command) => {
    const path = [...parent, command.name];
    const self: Array<[string[], CommandSpec]> = command.load ? [[path, command]] : [];
    return [...self, ...runnable(command.subcommands ?? [], path)];
  });
}

export function topLevelHelp(commands: CommandSpec[]): string {
  return [
    'Usage: kassa <command> [options]',
    '',
    'Commands:',
    ...runnable(commands).map(([path, command]) => row(synopsis(path, command), command.summary)),
    '',
    'Run `kassa <command> --help` for the options of one.',
    'Exit status: 0 done, 1 failed (the message says why), 2 wrong usage (unknown command or option).',
    '',
    'Configuration comes from the environment: PORT, DATABASE_URL, KASSA_DATA_DIR, KASSA_MASTER_KEY, … (see README).',
  ].join('\n');
}

/** Help for one command or group of commands; `path` is its full name (`['merchant', 'create']`). */
export function commandHelp(path: string[], command: CommandSpec): string {
  const lines: string[] = [];
  const usages = [
    ...(command.load ? [synopsis(path, command)] : []),
    ...(command.subcommands?.length ? [`${path.join(' ')} <command>`] : []),
  ];
  usages.forEach((usage, index) => lines.push(`${index === 0 ? 'Usage: ' : '       '}kassa ${usage}`));
  if (command.aliases?.length) {
    const parent = path.slice(0, -1);
    lines.push(`Also: ${command.aliases.map((alias) => `kassa ${[...parent, alias].join(' ')}`).join(', ')}`);
  }
  lines.push('', command.summary);
  if (command.description) lines.push(command.description);
  if (command.subcommands?.length) {
    lines.push('', 'Commands:');
    for (const [subPath, subcommand] of runnable(command.subcommands)) {
      lines.push(row(synopsis(subPath, subcommand), subcommand.summary));
    }
  }
  if (command.arguments?.length) {
    lines.push('', 'Arguments:');
    for (const argument of command.arguments) lines.push(row(argument.name, argument.description));
  }
  if (command.load) {
    lines.push('', 'Options:');
    for (const [name, option] of Object.entries(command.options ?? {})) {
      const left = `${option.short ? `-${option.short}, ` : ''}${optionSynopsis(name, option).replace(/^\[|\]$/g, '')}`;
      lines.push(row(left, option.description));
    }
    lines.push(row('-h, --help', 'show this help'));
  }
  return lines.join('\n');
}
