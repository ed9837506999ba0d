import type { Database } from '../../db/client.ts';
import type { KeyPurpose, Keyring } from '../../lib/keyring.ts';
import { recordAuditNow } from '../audit/audit.service.ts';

/**
 * `kassa master-key rotate`: re-seals every sealed value under the current master key, so the previous key
 * (`KASSA_MASTER_KEY_PREVIOUS`) can be dropped (docs/security.md, "Master key"; docs/operations.md, "Rotating
 * the master key").
 *
 * Every sealed column is listed in SEALED_COLUMNS — a new one must be added here (test/e2e/operations/
 * master-key-rotate.test.ts fails for a `bytea` column ending in `_encrypted` or `_sealed` that is missing). Each is walked
 * in primary-key order, `batchSize` rows a transaction, and only rows not sealed under the current key are
 * read (their first bytes are not the current key's header): a run that stops half-way — a crash, Ctrl-C —
 * loses nothing, and the next run continues with what is left. Each row is written with compare-and-set
 * (`WHERE column = <the value read>`), so a value changed meanwhile by the gateway (a rolled secret) is never
 * overwritten with an older one; it was sealed under the current key by its writer anyway. Resealing is
 * idempotent: running again after a complete pass changes nothing.
 */

type SealedColumn = {
  table: string;
  /** Primary-key columns, in order (the walk's cursor). */
  key: readonly string[];
  column: string;
  purpose: KeyPurpose;
  /** `bytea` columns hold the sealed bytes; `base64` text columns hold them base64-encoded. */
  encoding: 'bytea' | 'base64';
};

export const SEALED_COLUMNS: readonly SealedColumn[] = [
  {
    table: 'signing_keys',
    key: ['kid'],
    column: 'private_jwk_encrypted',
    purpose: 'signing-key-encryption',
    encoding: 'bytea',
  },
  {
    table: 'merchant_signing_secrets',
    key: ['merchant_id', 'livemode'],
    column: 'secret_encrypted',
    purpose: 'redirect-signature',
    encoding: 'bytea',
  },
  {
    table: 'merchant_signing_secrets',
    key: ['merchant_id', 'livemode'],
    column: 'previous_secret_encrypted',
    purpose: 'redirect-signature',
    encoding: 'bytea',
  },
  {
    table: 'webhook_endpoints',
    key: ['id'],
    column: 'secret_encrypted',
    purpose: 'webhook-secret-encryption',
    encoding: 'bytea',
  },
  {
    table: 'webhook_endpoints',
    key: ['id'],
    column: 'previous_secret_encrypted',
    purpose: 'webhook-secret-encryption',
    encoding: 'bytea',
  },
  {
    table: 'saved_payment_methods',
    key: ['id'],
    column: 'card_encrypted',
    purpose: 'saved-card-encryption',
    encoding: 'bytea',
  },
  {
    table: 'processor_accounts',
    key: ['id'],
    column: 'credentials_sealed',
    purpose: 'processor-credentials-encryption',
    encoding: 'bytea',
  },
  {
    table: 'idempotency_keys',
    key: ['merchant_id', 'livemode', 'idempotency_key'],
    column: 'response_body',
    purpose: 'idempotency-response-encryption',
    encoding: 'base64',
  },
  {
    table: 'dashboard_users',
    key: ['id'],
    column: 'totp_secret_sealed',
    purpose: 'totp-secret-encryption',
    encoding: 'base64',
  },
];

export type ColumnReport = {
  table: string;
  column: string;
  /** Rows re-sealed under the current key by this run. */
  resealed: number;
  /** Rows no key of the keyring opens (sealed under a key that is not configured): left as they are. */
  unreadable: number;
  /** Rows a concurrent writer changed between read and write (already under its writer's key). */
  skipped: number;
};

export type RotationReport = {
  keyId: string;
  columns: ColumnReport[];
  resealed: number;
  unreadable: number;
  /** Values still not under the current key after the pass (a process still sealing with the old key). */
  remaining: number;
  /** True when nothing is left under another key: the previous key can be dropped. */
  complete: boolean;
};

/** The current key's header (`KS` ‖ 1 ‖ key id): what every value sealed under it starts with. */
function currentHeader(keyring: Keyring): Buffer {
  return Buffer.concat([Buffer.from('KS'), Buffer.from([1]), Buffer.from(keyring.keyId, 'hex')]);
}

function sealedBytes(spec: SealedColumn): string {
  return spec.encoding === 'bytea' ? spec.column : `decode(${spec.column}, 'base64')`;
}

/** SQL: the row's value is present and not sealed under the current key ($1 = the header). */
function needsResealSql(spec: SealedColumn): string {
  return `${spec.column} IS NOT NULL AND substring(${sealedBytes(spec)} FROM 1 FOR ${11}) IS DISTINCT FROM $1`;
}

export async function countNeedingReseal(db: Database, keyring: Keyring): Promise<number> {
  let total = 0;
  for (const spec of SEALED_COLUMNS) {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${spec.table} WHERE ${needsResealSql(spec)}`,
      [currentHeader(keyring)],
    );
    total += rows[0]!.n;
  }
  return total;
}

export async function rotateMasterKey(
  db: Database,
  keyring: Keyring,
  options: { batchSize?: number; onProgress?: (report: ColumnReport) => void } = {},
): Promise<RotationReport> {
  const batchSize = options.batchSize ?? 500;
  const header = currentHeader(keyring);
  const columns: ColumnReport[] = [];
  for (const spec of SEALED_COLUMNS) {
    const report: ColumnReport = {
      table: spec.table,
      column: spec.column,
      resealed: 0,
      unreadable: 0,
      skipped: 0,
    };
    const keyList = spec.key.join(', ');
    let cursor: unknown[] | undefined;
    for (;;) {
      const done = await db.transaction(async (tx) => {
        const values: unknown[] = [header];
        let after = '';
        if (cursor) {
          const placeholders = cursor.map((value) => {
            values.push(value);
            return `$${values.length}`;
          });
          after = ` AND (${keyList}) > (${placeholders.join(', ')})`;
        }
        values.push(batchSize);
        const { rows } = await tx.query<Record<string, unknown>>(
          `SELECT ${keyList}, ${spec.column} AS sealed FROM ${spec.table}
            WHERE ${needsResealSql(spec)}${after}
            ORDER BY ${keyList} LIMIT $${values.length} FOR UPDATE SKIP LOCKED`,
          values,
        );
        for (const row of rows) {
          const stored = row.sealed as Buffer | string;
          const bytes = typeof stored === 'string' ? Buffer.from(stored, 'base64') : stored;
          let plaintext: Buffer;
          try {
            plaintext = keyring.decrypt(spec.purpose, bytes);
          } catch {
            report.unreadable += 1;
            continue;
          }
          const resealed = keyring.encrypt(spec.purpose, plaintext);
          const next = spec.encoding === 'base64' ? resealed.toString('base64') : resealed;
          const where = spec.key.map((name, index) => `${name} = $${index + 3}`).join(' AND ');
          const { rowCount } = await tx.query(
            `UPDATE ${spec.table} SET ${spec.column} = $1 WHERE ${spec.column} = $2 AND ${where}`,
            [next, stored, ...spec.key.map((name) => row[name])],
          );
          if ((rowCount ?? 0) > 0) report.resealed += 1;
          else report.skipped += 1;
        }
        const last = rows.at(-1);
        if (last) cursor = spec.key.map((name) => last[name]);
        return rows.length < batchSize;
      });
      options.onProgress?.(report);
      if (done) break;
    }
    columns.push(report);
  }
  const remaining = await countNeedingReseal(db, keyring);
  const resealed = columns.reduce((sum, column) => sum + column.resealed, 0);
  const unreadable = columns.reduce((sum, column) => sum + column.unreadable, 0);
  await recordAuditNow(db, {
    merchantId: null,
    action: 'master_key.rotated',
    objectType: 'master_key',
    objectId: keyring.keyId,
    details: { resealed, unreadable, remaining },
  });
  return { keyId: keyring.keyId, columns, resealed, unreadable, remaining, complete: remaining === 0 };
}
