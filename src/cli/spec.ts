/**
 * The shape of the `kassa` command table (src/cli/table.ts). A command's name, help text and options live in
 * the table, so `kassa … --help` and argument errors are answered from it alone; the module that does the
 * work is imported only when the command runs.
 */

export type OptionSpec = {
  type: 'string' | 'boolean';
  short?: string;
  /** For a string option, the placeholder in help (`--name NAME`). */
  valueName?: string;
  /** The command cannot run without it (checked before its module is loaded). */
  required?: boolean;
  description: string;
};

export type ArgumentSpec = { name: string; description: string };

/** What a command's `run` receives: its options and arguments, already checked against its spec. */
export type CommandInput = {
  options: Record<string, string | boolean | undefined>;
  /** The positional arguments, one per `arguments` entry of the spec, in order. */
  args: string[];
};

export type CommandRun = (input: CommandInput) => Promise<void>;

export type CommandSpec = {
  name: string;
  /** Other names that run the same command (`kassa keys rotate` for `kassa signing-keys rotate`). */
  aliases?: string[];
  /** One line, shown in the parent's list of commands. */
  summary: string;
  /** A longer description for this command's own help (optional). */
  description?: string;
  options?: Record<string, OptionSpec>;
  /** Required positional arguments, in order. */
  arguments?: ArgumentSpec[];
  /** Nested commands (`kassa merchant create`). A command may have both `run` and subcommands. */
  subcommands?: CommandSpec[];
  /** Imports the module that does the work; called only when this command runs (never for --help). */
  load?: () => Promise<CommandRun>;
};
