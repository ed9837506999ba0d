import type { Queryable } from '../../db/client.ts';
import type { CallbackUrls, Merchant } from './merchant.types.ts';

export type MerchantRow = {
  id: string;
  name: string;
  display_name: string | null;
  logo_url: string | null;
  primary_color: string | null;
  default_locale: string;
  default_callbacks: CallbackUrls;
  default_capture: 'automatic' | 'manual';
  default_session_lifetime_seconds: number;
  card_data_permitted: boolean;
  api_version: string | null;
  version: number;
  created_at: Date;
  updated_at: Date;
};

export function toMerchant(row: MerchantRow): Merchant {
  return {
    id: row.id,
    name: row.name,
    displayName: row.display_name,
    logoUrl: row.logo_url,
    primaryColor: row.primary_color,
    defaultLocale: row.default_locale,
    defaultCallbacks: row.default_callbacks,
    defaultCapture: row.default_capture,
    defaultSessionLifetimeSeconds: row.default_session_lifetime_seconds,
    cardDataPermitted: row.card_data_permitted,
    apiVersion: row.api_version,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function insertMerchant(
  db: Queryable,
  merchant: { id: string; name: string; cardDataPermitted: boolean },
): Promise<Merchant> {
  const { rows } = await db.query<MerchantRow>(
    'INSERT INTO merchants (id, name, display_name, card_data_permitted) VALUES ($1, $2, $2, $3) RETURNING *',
    [merchant.id, merchant.name, merchant.cardDataPermitted],
  );
  return toMerchant(rows[0]!);
}

export async function findMerchantById(db: Queryable, id: string): Promise<Merchant | undefined> {
  const { rows } = await db.query<MerchantRow>('SELECT * FROM merchants WHERE id = $1', [id]);
  return rows[0] ? toMerchant(rows[0]) : undefined;
}

export type MerchantSettingsPatch = Partial<
  Pick<
    Merchant,
    | 'displayName'
    | 'logoUrl'
    | 'primaryColor'
    | 'defaultLocale'
    | 'defaultCallbacks'
    | 'defaultCapture'
    | 'defaultSessionLifetimeSeconds'
  >
>;

const PATCHABLE_COLUMNS: Record<keyof MerchantSettingsPatch, string> = {
  displayName: 'display_name',
  logoUrl: 'logo_url',
  primaryColor: 'primary_color',
  defaultLocale: 'default_locale',
  defaultCallbacks: 'default_callbacks',
  defaultCapture: 'default_capture',
  defaultSessionLifetimeSeconds: 'default_session_lifetime_seconds',
};

export async function updateMerchantSettings(
  db: Queryable,
  id: string,
  patch: MerchantSettingsPatch,
): Promise<Merchant | undefined> {
  const assignments: string[] = [];
  const values: unknown[] = [id];
  for (const [field, column] of Object.entries(PATCHABLE_COLUMNS) as [
    keyof MerchantSettingsPatch,
    string,
  ][]) {
    if (patch[field] === undefined) continue;
    const value = patch[field];
    values.push(field === 'defaultCallbacks' ? JSON.stringify(value) : value);
    assignments.push(`${column} = $${values.length}`);
  }
  if (assignments.length === 0) return findMerchantById(db, id);
  const { rows } = await db.query<MerchantRow>(
    `UPDATE merchants SET ${assignments.join(', ')}, version = version + 1, updated_at = now()
     WHERE id = $1 RETURNING *`,
    values,
  );
  return rows[0] ? toMerchant(rows[0]) : undefined;
}

/** The operator's switch for raw card data (CLI only); returns the merchant, or undefined if unknown. */
export async function setCardDataPermitted(
  db: Queryable,
  id: string,
  permitted: boolean,
): Promise<Merchant | undefined> {
  const { rows } = await db.query<MerchantRow>(
    `UPDATE merchants
        SET card_data_permitted = $2,
            version = version + CASE WHEN card_data_permitted = $2 THEN 0 ELSE 1 END,
            updated_at = CASE WHEN card_data_permitted = $2 THEN updated_at ELSE now() END
      WHERE id = $1 RETURNING *`,
    [id, permitted],
  );
  return rows[0] ? toMerchant(rows[0]) : undefined;
}
