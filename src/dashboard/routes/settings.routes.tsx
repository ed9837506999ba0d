import type { FastifyReply, FastifyRequest } from 'fastify';
import type { VNode } from 'preact';
import { ZUpdateMerchant } from '../../http/routes/v1/merchant.routes.ts';
import { ZUpdatePaymentMethodSetting } from '../../http/routes/v1/payment-method-settings.routes.ts';
import { createCspNonce, pageSecurityHeaders } from '../../http/pages/page-security.ts';
import { checkoutServiceDeps } from '../../modules/checkouts/checkout.service.ts';
import { CALLBACK_NAMES } from '../../modules/checkouts/checkout.schemas.ts';
import { updateMerchantSettingsFromRequest } from '../../modules/merchants/merchant-settings.service.ts';
import { findMerchantById } from '../../modules/merchants/merchant.repository.ts';
import type { Merchant } from '../../modules/merchants/merchant.types.ts';
import { DEVICES, PAYMENT_METHOD_TYPES, type Device } from '../../modules/payment-methods/eligibility.ts';
import {
  evaluatePaymentMethodsOfCheckout,
  getPaymentMethodSettings,
  updatePaymentMethodSetting,
} from '../../modules/payment-methods/payment-method-settings.service.ts';
import { roleAllows } from '../../modules/users/permissions.ts';
import { appErrorProblems, zodProblems, type FormProblem } from '../form-errors.ts';
import { DashboardRefusal, formText, NATURAL_POST, noticeOf, queryText } from '../kit.tsx';
import { renderDocument } from '../layout.tsx';
import { renderBrandingPreview, type BrandingDraft } from '../pages/settings-preview.ts';
import { SettingsPage, type EligibilityView, type SettingsDrafts } from '../pages/settings.tsx';
import type { KassaApp } from '../../http/http.types.ts';
import type { Context, DashboardKit } from '../kit.tsx';

const NOTICES: Record<string, string> = {
  branding_saved: 'Branding saved: new checkouts show it on the hosted payment page.',
  terminal_saved: 'Terminal settings saved: new checkouts inherit them.',
  method_saved: 'Payment method settings saved.',
};

const BRANDING_LABELS = {
  display_name: 'Display name',
  'branding.logo_url': 'Logo URL',
  'branding.primary_color': 'Brand colour',
};
const TERMINAL_LABELS: Record<string, string> = {
  default_locale: 'Default language',
  default_capture_mode: 'Default capture',
  default_session_lifetime_seconds: 'Checkout lifetime',
  ...Object.fromEntries(CALLBACK_NAMES.map((name) => [`default_callbacks.${name}`, `Callback ${name}`])),
};

/** The page frame allows one frame: the branding preview, served by this same origin. */
function withPreviewFrame(headers: Record<string, string>): Record<string, string> {
  const csp = headers['Content-Security-Policy']!;
  return { ...headers, 'Content-Security-Policy': `${csp}; frame-src 'self'` };
}

/** The preview may be framed by the settings page (same origin), by nothing else. */
function framableBy(headers: Record<string, string>): Record<string, string> {
  return {
    ...headers,
    'Content-Security-Policy': headers['Content-Security-Policy']!.replace(
      "frame-ancestors 'none'",
      "frame-ancestors 'self'",
    ),
    'X-Frame-Options': 'SAMEORIGIN',
  };
}

/**
 * Settings: branding with a preview of the hosted payment page, terminal settings (default callbacks, capture,
 * language, checkout lifetime), payment-method settings and "why is a method hidden for this checkout". Every
 * change goes through the service behind `PATCH /v1/merchant` or `PATCH /v1/payment-method-settings/{method}`,
 * and is audited with the person as the actor.
 */
export function registerSettingsRoutes(scope: KassaApp, kit: DashboardKit) {
  const { services, db, auditAction, actionContext, readPage, writeActionContext, requirePermission } = kit;
  const { egressPolicy } = checkoutServiceDeps(services);

  function sendSettings(reply: FastifyReply, statusCode: number, nonce: string, page: VNode) {
    return reply
      .code(statusCode)
      .headers(withPreviewFrame(pageSecurityHeaders(nonce, { formActionOrigins: [] })))
      .type('text/html; charset=utf-8')
      .send(renderDocument(page));
  }

  async function merchantOf(context: Context): Promise<Merchant> {
    const merchant = await findMerchantById(db, context.scope.merchantId);
    if (!merchant) throw new DashboardRefusal(404, 'Not found', 'This merchant no longer exists.');
    return merchant;
  }

  async function eligibilityOf(
    request: FastifyRequest,
    context: Context,
  ): Promise<EligibilityView | undefined> {
    const checkoutId = queryText(request, 'checkout')?.trim();
    if (!checkoutId) return undefined;
    const device: Device = (DEVICES as readonly string[]).includes(queryText(request, 'device') ?? '')
      ? (queryText(request, 'device') as Device)
      : 'desktop';
    const evaluated = await evaluatePaymentMethodsOfCheckout(
      db,
      services,
      context.scope,
      checkoutId.slice(0, 100),
      device,
    );
    if (!evaluated) return { checkoutId, device, found: false };
    return { checkoutId, device, found: true, status: evaluated.status, result: evaluated.result };
  }

  async function settingsPage(
    request: FastifyRequest,
    reply: FastifyReply,
    context: Context,
    extra: { statusCode?: number; drafts?: SettingsDrafts } = {},
  ) {
    const merchant = await merchantOf(context);
    const methods = await getPaymentMethodSettings(db, services, context.scope);
    const nonce = createCspNonce();
    return sendSettings(
      reply,
      extra.statusCode ?? 200,
      nonce,
      <SettingsPage
        nonce={nonce}
        viewer={context.viewer}
        merchant={merchant}
        methods={methods}
        canWrite={roleAllows(context.session.user.role, 'merchant', 'write')}
        drafts={extra.drafts ?? {}}
        eligibility={await eligibilityOf(request, context)}
        notice={noticeOf(request, NOTICES)}
      />,
    );
  }

  readPage(scope, '/dashboard/settings', 'merchant', settingsPage);

  /** The branding a form or link names, as typed (the preview shows what is not saved yet). */
  function brandingDraftOf(read: (name: string) => string): BrandingDraft {
    return {
      displayName: read('display_name').trim(),
      logoUrl: read('logo_url').trim(),
      primaryColor: read('primary_color').trim(),
    };
  }

  async function sendPreview(reply: FastifyReply, context: Context, draft: BrandingDraft) {
    const merchant = await merchantOf(context);
    const nonce = createCspNonce();
    return reply
      .code(200)
      .headers(framableBy(pageSecurityHeaders(nonce, { formActionOrigins: [] })))
      .type('text/html; charset=utf-8')
      .send(renderBrandingPreview({ merchant, draft, livemode: context.scope.livemode, nonce }));
  }

  // The preview is the hosted page's own renderer with a sample order: GET for the frame's first view and the
  // live update, POST for the form's Preview button (so the CSRF token never lands in a URL).
  readPage(scope, '/dashboard/settings/preview', 'merchant', async (request, reply, context) => {
    return sendPreview(
      reply,
      context,
      brandingDraftOf((name) => queryText(request, name) ?? ''),
    );
  });

  scope.post(
    '/dashboard/settings/preview',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await actionContext(request);
      requirePermission(context, 'merchant', 'read');
      return sendPreview(
        reply,
        context,
        brandingDraftOf((name) => formText(request, name)),
      );
    },
  );

  /** Saves a change through the merchant settings service (PATCH /v1/merchant's), then audits it. */
  async function saveMerchantSettings(
    request: FastifyRequest,
    reply: FastifyReply,
    context: Context,
    body: unknown,
    labels: Record<string, string>,
    kind: 'branding' | 'terminal',
    drafts: SettingsDrafts,
  ) {
    const parsed = ZUpdateMerchant.safeParse(body);
    const refuse = (problems: FormProblem[]) =>
      settingsPage(request, reply, context, {
        statusCode: 422,
        drafts: { ...drafts, problems: { [kind]: problems } },
      });
    if (!parsed.success) return refuse(zodProblems(parsed.error, labels));
    try {
      await db.transaction((tx) =>
        updateMerchantSettingsFromRequest(tx, { egressPolicy }, context.scope, parsed.data),
      );
    } catch (error) {
      const problems = appErrorProblems(error, labels);
      if (problems) return refuse(problems);
      throw error;
    }
    services.merchants.forget(context.scope.merchantId);
    await auditAction(request, context, {
      action: 'merchant.settings_updated',
      objectType: 'merchant',
      objectId: context.scope.merchantId,
      details: { livemode: context.scope.livemode, fields: Object.keys(parsed.data).sort(), ...parsed.data },
    });
    return kit.seeOther(reply, `/dashboard/settings?notice=${kind}_saved`);
  }

  scope.post(
    '/dashboard/settings/branding',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'merchant');
      const draft = brandingDraftOf((name) => formText(request, name));
      // An empty logo or colour field clears it (the API's null); the name cannot be cleared.
      const body = {
        display_name: draft.displayName,
        branding: { logo_url: draft.logoUrl || null, primary_color: draft.primaryColor || null },
      };
      return saveMerchantSettings(request, reply, context, body, BRANDING_LABELS, 'branding', {
        branding: draft,
      });
    },
  );

  scope.post(
    '/dashboard/settings/terminal',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'merchant');
      const callbacks = Object.fromEntries(
        CALLBACK_NAMES.map((name) => [name, formText(request, `callback_${name}`).trim() || null]),
      );
      const minutesText = formText(request, 'session_lifetime_minutes').trim();
      const minutes = /^\d{1,6}$/.test(minutesText) ? Number(minutesText) : Number.NaN;
      const body = {
        default_callbacks: callbacks,
        default_capture_mode: formText(request, 'default_capture_mode'),
        default_locale: formText(request, 'default_locale').trim(),
        default_session_lifetime_seconds: minutes * 60,
      };
      const terminal = {
        callbacks: Object.fromEntries(
          CALLBACK_NAMES.map((name) => [name, formText(request, `callback_${name}`)]),
        ),
        capture: formText(request, 'default_capture_mode'),
        locale: formText(request, 'default_locale'),
        lifetimeMinutes: minutesText,
      };
      return saveMerchantSettings(request, reply, context, body, TERMINAL_LABELS, 'terminal', { terminal });
    },
  );

  scope.post(
    '/dashboard/settings/payment-methods/:method',
    { config: NATURAL_POST, schema: { hide: true } },
    async (request, reply) => {
      const context = await writeActionContext(request, 'merchant');
      const method = (request.params as { method: string }).method;
      if (!(PAYMENT_METHOD_TYPES as readonly string[]).includes(method))
        throw new DashboardRefusal(404, 'Not found', `There is no payment method ${method}.`);
      const list = (name: string) => {
        const items = formText(request, name)
          .split(/[\s,]+/)
          .map((item) => item.trim().toUpperCase())
          .filter(Boolean);
        return items.length > 0 ? items : null;
      };
      const amount = (name: string) => {
        const text = formText(request, name).trim();
        return text === '' ? null : /^\d{1,15}$/.test(text) ? Number(text) : text;
      };
      const form = (request.body ?? {}) as Record<string, unknown>;
      const devices = ([] as unknown[]).concat(form.devices ?? []).filter((d) => typeof d === 'string');
      const body = {
        enabled: formText(request, 'enabled') === 'on',
        countries: list('countries'),
        currencies: list('currencies'),
        min_amount: amount('min_amount'),
        max_amount: amount('max_amount'),
        // Every device ticked is no restriction at all (null), like the API's default.
        devices: devices.length === 0 || devices.length === DEVICES.length ? null : devices,
        display_order: Number(formText(request, 'display_order') || Number.NaN),
      };
      const labels = {
        countries: 'Countries',
        currencies: 'Currencies',
        min_amount: 'Minimum amount',
        max_amount: 'Maximum amount',
        devices: 'Devices',
        display_order: 'Display order',
      };
      const parsed = ZUpdatePaymentMethodSetting.safeParse(body);
      const refuse = (problems: FormProblem[]) =>
        settingsPage(request, reply, context, {
          statusCode: 422,
          drafts: { problems: { [`method_${method}`]: problems } },
        });
      if (!parsed.success) return refuse(zodProblems(parsed.error, labels));
      try {
        await db.transaction((tx) =>
          updatePaymentMethodSetting(tx, services, context.scope, method as 'card', parsed.data),
        );
      } catch (error) {
        const problems = appErrorProblems(error, labels);
        if (problems) return refuse(problems);
        throw error;
      }
      services.paymentMethodSettings.forget(context.scope);
      await auditAction(request, context, {
        action: 'payment_method_settings.updated',
        objectType: 'payment_method_setting',
        objectId: method,
        details: { livemode: context.scope.livemode, ...parsed.data },
      });
      return kit.seeOther(reply, '/dashboard/settings?notice=method_saved#payment-methods');
    },
  );
}
