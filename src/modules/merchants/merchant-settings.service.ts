import type { UnitOfWork } from '../../db/client.ts';
import type { CompiledEgressPolicy } from '../../egress/index.ts';
import { notFoundError, validationError, type FieldError } from '../../lib/errors.ts';
import { CALLBACK_NAMES, type CallbackName } from '../checkouts/checkout.schemas.ts';
import { refuseCallbackUrl, refuseRedirectUrl } from '../checkouts/checkout.urls.ts';
import {
  findMerchantById,
  updateMerchantSettings,
  type MerchantSettingsPatch,
} from './merchant.repository.ts';
import type { CallbackUrls, Merchant } from './merchant.types.ts';

/**
 * `PATCH /v1/merchant`: display name, branding and the defaults new checkouts inherit. JSON merge-patch
 * semantics (RFC 7396): an omitted field is kept, null clears a nullable one, and `default_callbacks` is merged
 * per callback (a URL sets it, null removes it).
 *
 * Merchant settings are shared by both modes; URLs are judged by the caller's mode (http is accepted from
 * test-mode credentials). A live checkout re-checks inherited callbacks against live rules at creation.
 */
export type MerchantSettingsRequest = {
  display_name?: string | undefined;
  branding?: { logo_url?: string | null | undefined; primary_color?: string | null | undefined } | undefined;
  default_locale?: string | undefined;
  default_callbacks?: Partial<Record<CallbackName, string | null>> | undefined;
  default_capture_mode?: 'automatic' | 'manual' | undefined;
  default_session_lifetime_seconds?: number | undefined;
};

export async function updateMerchantSettingsFromRequest(
  tx: UnitOfWork,
  deps: { egressPolicy: CompiledEgressPolicy },
  scope: { merchantId: string; livemode: boolean },
  request: MerchantSettingsRequest,
): Promise<Merchant> {
  // Lock first: default_callbacks is a read-modify-write.
  await tx.query('SELECT id FROM merchants WHERE id = $1 FOR UPDATE', [scope.merchantId]);
  const current = await findMerchantById(tx, scope.merchantId);
  if (!current) throw notFoundError('merchant', scope.merchantId);

  const errors: FieldError[] = [];
  const logoUrl = request.branding?.logo_url;
  if (typeof logoUrl === 'string') {
    const reason = refuseRedirectUrl(logoUrl, scope.livemode);
    if (reason) errors.push({ pointer: '/branding/logo_url', code: 'invalid_url', message: reason });
  }
  let callbacks: CallbackUrls | undefined;
  if (request.default_callbacks !== undefined) {
    callbacks = { ...current.defaultCallbacks };
    for (const name of CALLBACK_NAMES) {
      const value = request.default_callbacks[name];
      if (value === null) delete callbacks[name];
      if (typeof value !== 'string') continue;
      const refusal = refuseCallbackUrl(value, scope.livemode, deps.egressPolicy);
      if (refusal) errors.push({ pointer: `/default_callbacks/${name}`, ...refusal });
      callbacks[name] = value;
    }
  }
  if (errors.length > 0) throw validationError(errors);

  const patch: MerchantSettingsPatch = {};
  if (request.display_name !== undefined) patch.displayName = request.display_name;
  if (logoUrl !== undefined) patch.logoUrl = logoUrl;
  if (request.branding?.primary_color !== undefined) patch.primaryColor = request.branding.primary_color;
  if (request.default_locale !== undefined) patch.defaultLocale = request.default_locale;
  if (callbacks !== undefined) patch.defaultCallbacks = callbacks;
  if (request.default_capture_mode !== undefined) patch.defaultCapture = request.default_capture_mode;
  if (request.default_session_lifetime_seconds !== undefined) {
    patch.defaultSessionLifetimeSeconds = request.default_session_lifetime_seconds;
  }
  if (Object.keys(patch).length === 0) return current;

  const updated = await updateMerchantSettings(tx, scope.merchantId, patch);
  if (!updated) throw notFoundError('merchant', scope.merchantId);
  tx.emit({
    merchantId: scope.merchantId,
    livemode: scope.livemode,
    type: 'merchant.updated',
    objectId: updated.id,
    objectVersion: updated.version,
    data: {
      id: updated.id,
      object: 'merchant',
      display_name: updated.displayName,
      branding: { logo_url: updated.logoUrl, primary_color: updated.primaryColor },
      default_locale: updated.defaultLocale,
      default_callbacks: updated.defaultCallbacks,
      default_capture_mode: updated.defaultCapture,
      default_session_lifetime_seconds: updated.defaultSessionLifetimeSeconds,
      version: updated.version,
      updated_fields: Object.keys(request).sort(),
    },
  });
  return updated;
}
