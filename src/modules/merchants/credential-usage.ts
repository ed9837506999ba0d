import type { Queryable } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';

/**
 * `last_used_at` of API keys and OAuth clients, recorded in batches: `record` only notes the credential in
 * memory (the latest time per id); `flush` — every `intervalMs`, and on shutdown — writes everything noted
 * since the last flush with ONE statement (both tables, a data-modifying CTE each). A request never waits for
 * a write, and a credential used 10,000 times a second costs one row update per flush per process.
 *
 * The value only moves forward (`GREATEST`), so processes flushing out of order never set it back. Usage is
 * not a change of the credential: `version` and `updated_at` stay as they are, and no event is written.
 * A flush that fails (database unreachable) puts its ids back for the next one.
 */

export type CredentialUsageRecorder = {
  /** Notes that `credentialId` (`key_…` or `cli_…`) was used now. */
  record(credentialId: string): void;
  /** Writes what was noted; answers how many ids were written. */
  flush(): Promise<number>;
  /** Stops the timer and writes what is left. */
  stop(): Promise<void>;
};

const FLUSH_STATEMENT = `WITH used AS (
    SELECT * FROM unnest($1::text[], $2::timestamptz[]) AS u(id, at)
  ), keys AS (
    UPDATE api_keys k SET last_used_at = GREATEST(k.last_used_at, used.at)
      FROM used WHERE k.id = used.id AND k.last_used_at IS DISTINCT FROM GREATEST(k.last_used_at, used.at)
    RETURNING 1
  ), clients AS (
    UPDATE api_clients c SET last_used_at = GREATEST(c.last_used_at, used.at)
      FROM used WHERE c.id = used.id AND c.last_used_at IS DISTINCT FROM GREATEST(c.last_used_at, used.at)
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM keys)::int + (SELECT count(*) FROM clients)::int AS updated`;

export function createCredentialUsageRecorder(deps: {
  db: Queryable;
  clock: Clock;
  intervalMs: number;
  onError?: (error: unknown) => void;
}): CredentialUsageRecorder {
  let pending = new Map<string, Date>();
  let flushing: Promise<number> | undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  function arm() {
    if (stopped || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      void flush()
        .catch((error: unknown) => deps.onError?.(error))
        .finally(() => {
          if (pending.size > 0) arm();
        });
    }, deps.intervalMs);
    // A recorder with nothing left to write must not keep the process alive.
    timer.unref();
  }

  async function writeBatch(): Promise<number> {
    if (pending.size === 0) return 0;
    const batch = pending;
    pending = new Map();
    try {
      await deps.db.query(FLUSH_STATEMENT, [[...batch.keys()], [...batch.values()]]);
      return batch.size;
    } catch (error) {
      // Keep what could not be written (newer uses noted meanwhile win).
      for (const [id, at] of batch) if (!pending.has(id)) pending.set(id, at);
      throw error;
    }
  }

  function flush(): Promise<number> {
    // One flush at a time: a second caller waits for the running one, then writes what came after it.
    const previous = flushing ?? Promise.resolve(0);
    const next = previous.catch(() => 0).then(writeBatch);
    flushing = next;
    void next
      .finally(() => {
        if (flushing === next) flushing = undefined;
      })
      .catch(() => {});
    return next;
  }

  return {
    record(credentialId) {
      const at = deps.clock.now();
      const seen = pending.get(credentialId);
      if (!seen || seen < at) pending.set(credentialId, at);
      arm();
    },
    flush,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await flush();
    },
  };
}
