import type { Queryable } from '../../db/client.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { PaymentMethodSetting, PaymentMethodType } from './eligibility.ts';

/** A merchant's setting for one method in one mode, as stored. */
export type PaymentMethodSettingRecord = PaymentMethodSetting & {
  livemode: boolean;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

/** The columns carry the setting under its own names; `card_brands` is null for methods other than card. */
export type SettingRow = Omit<PaymentMethodSetting, 'card_brands'> & {
  merchant_id: string;
  livemode: boolean;
  card_brands: string[] | null;
  version: number;
  created_at: Date;
  updated_at: Date;
};

function toSetting(row: SettingRow): PaymentMethodSetting {
  return {
    method: row.method,
    enabled: row.enabled,
    countries: row.countries,
    currencies: row.currencies,
    min_amount: row.min_amount,
    max_amount: row.max_amount,
    devices: row.devices,
    display_order: row.display_order,
    ...(row.card_brands === null ? {} : { card_brands: row.card_brands }),
  };
}

function toRecord(row: SettingRow): PaymentMethodSettingRecord {
  return {
    ...toSetting(row),
    livemode: row.livemode,
    version: row.version,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function settingValues(setting: PaymentMethodSetting): unknown[] {
  return [
    setting.enabled,
    setting.countries,
    setting.currencies,
    setting.min_amount,
    setting.max_amount,
    setting.devices,
    setting.display_order,
    setting.card_brands ?? null,
  ];
}

/** Sorted by display order, then method. */
export async function listPaymentMethodSettings(
  db: Queryable,
  scope: Scope,
): Promise<PaymentMethodSettingRecord[]> {
  const { rows } = await db.query<SettingRow>(
    `SELECT * FROM payment_method_settings WHERE merchant_id = $1 AND livemode = $2 ORDER BY display_order, method`,
    [scope.merchantId, scope.livemode],
  );
  return rows.map(toRecord);
}

export async function findPaymentMethodSetting(
  db: Queryable,
  scope: Scope,
  method: PaymentMethodType,
  options: { forUpdate?: boolean } = {},
): Promise<PaymentMethodSettingRecord | undefined> {
  const { rows } = await db.query<SettingRow>(
    `SELECT * FROM payment_method_settings WHERE merchant_id = $1 AND livemode = $2 AND method = $3
     ${options.forUpdate ? 'FOR UPDATE' : ''}`,
    [scope.merchantId, scope.livemode, method],
  );
  return rows[0] ? toRecord(rows[0]) : undefined;
}

/** Inserts the settings that do not exist yet; existing rows are left alone (concurrent callers are fine). */
export async function insertMissingPaymentMethodSettings(
  db: Queryable,
  scope: Scope,
  settings: readonly PaymentMethodSetting[],
  now: Date,
): Promise<void> {
  for (const setting of settings) {
    await db.query(
      `INSERT INTO payment_method_settings (enabled, countries, currencies, min_amount, max_amount, devices,
         display_order, card_brands, merchant_id, livemode, method, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)
       ON CONFLICT (merchant_id, livemode, method) DO NOTHING`,
      [...settingValues(setting), scope.merchantId, scope.livemode, setting.method, now],
    );
  }
}

export async function updatePaymentMethodSettingRow(
  tx: Queryable,
  scope: Scope,
  setting: PaymentMethodSetting,
  now: Date,
): Promise<PaymentMethodSettingRecord | undefined> {
  const { rows } = await tx.query<SettingRow>(
    `UPDATE payment_method_settings SET enabled = $1, countries = $2, currencies = $3, min_amount = $4,
       max_amount = $5, devices = $6, display_order = $7, card_brands = $8, updated_at = $9, version = version + 1
     WHERE merchant_id = $10 AND livemode = $11 AND method = $12 RETURNING *`,
    [...settingValues(setting), now, scope.merchantId, scope.livemode, setting.method],
  );
  return rows[0] ? toRecord(rows[0]) : undefined;
}
