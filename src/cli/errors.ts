/**
 * How the `kassa` command ends when something goes wrong. The rule:
 *
 * - exit 2: the command line is wrong (unknown command or option, missing value or argument): one line saying
 *   what, then the usage of the command concerned (`UsageError`).
 * - exit 1: the command could not do its job because of something the operator can fix — invalid configuration
 *   (`ConfigError`), a port already in use, a database that does not answer or refuses the connection, a
 *   credential that does not exist (`CommandError`): one line (a configuration error lists each bad variable),
 *   no stack trace.
 * - exit 1 with a stack trace: anything else. It is a bug in Kassa, and the stack is what a report needs.
 */

export class UsageError extends Error {
  /** The command path whose usage is shown under the message (`['merchant', 'create']`; empty: the top level). */
  readonly commandPath: string[];
  constructor(message: string, commandPath: string[]) {
    super(message);
    this.commandPath = commandPath;
  }
}

/** A failure a command reports in one line, exit 1 (e.g. revoking a credential that does not exist). */
export class CommandError extends Error {}

const CONNECT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

type SystemError = Error & { code?: string; syscall?: string; address?: string; port?: number };

let databaseInUse: string | undefined;

/** Names the database the running command uses (no credentials), for connection errors. */
export function noteDatabase(description: string): void {
  databaseInUse = description;
}

/** The one line to print for an error an operator can fix, or undefined for an unexpected one. */
export function describeOperationalError(error: unknown): string | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error instanceof CommandError) return error.message;
  const { code, syscall, address, port } = error as SystemError;
  if (syscall === 'listen') {
    if (code === 'EADDRINUSE')
      return `port ${port} is already in use; set PORT=… to a free port, or stop what is listening on it`;
    if (code === 'EACCES') return `not allowed to listen on port ${port}; set PORT=… to a port above 1023`;
    if (code === 'EADDRNOTAVAIL') return `cannot listen on ${address}: no such local address; check HOST`;
  }
  const where = databaseInUse ? ` (${databaseInUse})` : '';
  // A refused or unreachable connection: from `net` directly, or as an AggregateError when Node tried several
  // addresses for one host name (localhost: ::1 and 127.0.0.1).
  const connectFailure = [error, ...(error instanceof AggregateError ? error.errors : [])].find(
    (candidate): candidate is SystemError =>
      candidate instanceof Error && CONNECT_ERROR_CODES.has((candidate as SystemError).code ?? ''),
  );
  if (connectFailure) {
    const target =
      !databaseInUse && connectFailure.address ? ` at ${connectFailure.address}:${connectFailure.port}` : '';
    return `cannot connect to the database${where}: ${connectFailure.code}${target}; is it running, and is DATABASE_URL right?`;
  }
  // pg-pool's and pg's own wording for connectionTimeoutMillis (src/db/client.ts); they carry no code.
  if (/timeout exceeded when trying to connect|connection timeout/i.test(error.message)) {
    return `the database${where} did not answer in time; is it running, and is DATABASE_URL right?`;
  }
  // PostgreSQL refused the session: bad password or role (class 28), no such database (3D000), a server
  // starting up or shutting down (57P03), a connection exception (class 08).
  const sqlState = 'severity' in error && typeof code === 'string' ? code : undefined;
  if (sqlState && (/^(28|08)/.test(sqlState) || sqlState === '3D000' || sqlState === '57P03')) {
    return `the database${where} refused the connection: ${error.message}`;
  }
  return undefined;
}
