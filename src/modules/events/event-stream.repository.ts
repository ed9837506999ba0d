import type { Queryable } from '../../db/client.ts';
import { PENDING_WEBHOOKS, toStoredEvent, type EventRow, type ListedEvent } from './event.repository.ts';
import type { EventType } from './event.types.ts';

/**
 * Reading the events of one merchant and mode in the order GET /v1/events/stream sends them (docs/events.md,
 * "Event stream").
 *
 * A position is `<transaction id>.<seq>`: events are read in (xact_id, seq) order, and only those written by
 * transactions older than the oldest transaction still running (`pg_snapshot_xmin`). That set is final — a
 * transaction still running, or one that starts later, has an id at or above the horizon — so a reader that
 * has passed a position never misses an event behind it, whichever gateway process wrote it and whenever it
 * committed. `seq` alone would not do: transactions commit in another order than they take sequence values.
 */

export type StreamPosition = { xact: bigint; seq: bigint };

const POSITION_PATTERN = /^(\d{1,20})\.(\d{1,20})$/;

export function parseStreamPosition(text: string): StreamPosition | undefined {
  const match = POSITION_PATTERN.exec(text);
  return match ? { xact: BigInt(match[1]!), seq: BigInt(match[2]!) } : undefined;
}

export function formatStreamPosition(position: StreamPosition): string {
  return `${position.xact}.${position.seq}`;
}

function isAfter(a: StreamPosition, b: StreamPosition) {
  return a.xact > b.xact || (a.xact === b.xact && a.seq > b.seq);
}

/** The position of "now": every event already final is behind it. */
export async function currentStreamPosition(db: Queryable): Promise<StreamPosition> {
  const { rows } = await db.query<{ horizon: string }>(
    'SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon',
  );
  return { xact: BigInt(rows[0]!.horizon), seq: 0n };
}

export type StreamedEvent = ListedEvent & { position: StreamPosition };

/**
 * The next final events after `after` (oldest first, at most `limit`), and the position to read from next:
 * the last event's, or — when fewer than `limit` came back — the horizon, so a quiet stream moves forward
 * too. One statement, so the horizon and the rows come from the same snapshot.
 */
export async function readEventsAfter(
  db: Queryable,
  scope: { merchantId: string; livemode: boolean },
  after: StreamPosition,
  options: { types?: readonly EventType[]; limit: number },
): Promise<{ events: StreamedEvent[]; next: StreamPosition }> {
  const values: unknown[] = [
    scope.merchantId,
    scope.livemode,
    after.xact.toString(),
    after.seq.toString(),
    options.limit,
  ];
  let typeCondition = '';
  if (options.types?.length) {
    values.push(options.types);
    typeCondition = `AND events.type = ANY($${values.length}::text[])`;
  }
  const { rows } = await db.query<
    Partial<EventRow> & {
      horizon: string;
      xact: string | null;
      seq_text: string | null;
      pending_webhooks: number;
    }
  >(
    `WITH snapshot AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS horizon)
     SELECT snapshot.horizon::text AS horizon, page.*
       FROM snapshot
       LEFT JOIN LATERAL (
         SELECT events.*, events.xact_id::text AS xact, events.seq::text AS seq_text,
                ${PENDING_WEBHOOKS} AS pending_webhooks
           FROM events
          WHERE events.merchant_id = $1 AND events.livemode = $2
            AND (events.xact_id, events.seq) > ($3::text::xid8, $4::bigint)
            AND events.xact_id < snapshot.horizon
            ${typeCondition}
          ORDER BY events.xact_id, events.seq
          LIMIT $5
       ) page ON true`,
    values,
  );
  const horizon: StreamPosition = { xact: BigInt(rows[0]!.horizon), seq: 0n };
  const events: StreamedEvent[] = rows
    .filter((row) => row.xact !== null && row.xact !== undefined)
    .map((row) => ({
      ...toStoredEvent(row as EventRow),
      pendingWebhooks: row.pending_webhooks,
      position: { xact: BigInt(row.xact!), seq: BigInt(row.seq_text!) },
    }));
  const last = events.at(-1)?.position ?? after;
  const next = events.length < options.limit && isAfter(horizon, last) ? horizon : last;
  return { events, next };
}
