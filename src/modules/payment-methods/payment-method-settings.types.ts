import type { Queryable } from '../../db/client.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { PaymentMethodSettingRecord } from './payment-method-settings.repository.ts';

/**
 * A merchant's payment-method settings per mode, kept by this process for `ttlMs` (default 1 s):
 * every hosted page, payment-methods answer and payment start reads them, and they change rarely.
 *
 * - `PATCH /v1/payment-method-settings/{method}` through this process calls `forget`: the change applies here at
 *   once;
 * - another process sharing the database sees it within `ttlMs` (default 1 s): for that long it may still
 *   offer, or accept a payment with, a method just switched off there.
 */
export type PaymentMethodSettingsCache = {
  find(db: Queryable, scope: Scope): Promise<PaymentMethodSettingRecord[]>;
  forget(scope: Scope): void;
};
