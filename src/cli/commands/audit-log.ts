import { presentAuditEntry } from '../../modules/audit/audit.presenter.ts';
import { listAuditEntries, type StoredAuditEntry } from '../../modules/audit/audit.service.ts';
import { findMerchantById } from '../../modules/merchants/merchant.repository.ts';
import { withDatabase } from '../context.ts';
import { CommandError, UsageError } from '../errors.ts';
import { print } from '../output.ts';
import type { CommandRun } from '../spec.ts';

/**
 * `kassa audit-log list --merchant ID`: a merchant's audit trail, newest first (docs/security.md, "Audit
 * trail"); without `--merchant`, the entries that concern no one merchant (token-signing key rotations).
 */

function describeEntry(entry: StoredAuditEntry): string {
  const actor = `${entry.actor.type}:${entry.actor.id}${entry.actor.label ? ` (${entry.actor.label})` : ''}`;
  const object = entry.objectId ? `  ${entry.objectId}` : entry.objectType ? `  ${entry.objectType}` : '';
  const from = entry.clientAddress ? `  from ${entry.clientAddress}` : '';
  return `${entry.createdAt.toISOString()}  ${entry.id}  ${entry.action}${object}  by ${actor}${from}`;
}

/** The API's entry, with the merchant it concerns (the operator sees every merchant's). */
function entryJson(entry: StoredAuditEntry) {
  const { id, object, ...rest } = presentAuditEntry(entry);
  return { id, object, merchant_id: entry.merchantId, ...rest };
}

export const listAuditLog: CommandRun = async ({ options }) => {
  const merchantId = typeof options.merchant === 'string' ? options.merchant : null;
  const limit = options.limit === undefined ? 50 : Number(options.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new UsageError('--limit must be a whole number from 1 to 1000', ['audit-log', 'list']);
  const action = typeof options.action === 'string' ? options.action : undefined;
  if (action !== undefined && !/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?$/.test(action))
    throw new UsageError('--action must look like api_key.revoked or api_key.*', ['audit-log', 'list']);
  const startingAfter = typeof options['starting-after'] === 'string' ? options['starting-after'] : undefined;
  await withDatabase(async (db) => {
    if (merchantId !== null && !(await findMerchantById(db, merchantId)))
      throw new CommandError(`no merchant ${merchantId}`);
    const rows = await listAuditEntries(db, merchantId, { limit, startingAfter }, { action });
    const entries = rows.slice(0, limit);
    if (options.json) print(JSON.stringify(entries.map(entryJson), null, 2));
    else if (entries.length === 0) print(`no audit entries${merchantId ? ` for ${merchantId}` : ''}`);
    else {
      for (const entry of entries) print(describeEntry(entry));
      if (rows.length > limit) print(`more: --starting-after ${entries.at(-1)!.id}`);
    }
  });
};
