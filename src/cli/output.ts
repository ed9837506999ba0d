/** Where commands write. stdout carries a command's answer (help included); stderr carries notes and errors. */

export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Database start-up notes for commands: warnings only, to stderr, so stdout stays the command's answer. */
export const quietLogger = {
  info: () => {},
  warn: (message: string) => console.error(`warning: ${message}`),
};
