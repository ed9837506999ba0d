// Type definitions for the Kassa browser SDK v1 (/sdk/v1/kassa.js). The script defines `window.Kassa`.

export type PaymentMethodType = 'card' | 'invoice' | 'wallet';

/** Stable codes of every KassaError the SDK raises. */
export type KassaErrorCode =
  /** init() / initFromQR() options are missing or malformed. */
  | 'invalid_options'
  /** Kassa.injectPaymentMethods() before Kassa.init(), or securePageUrl() before injectPaymentMethods(). */
  | 'not_initialized'
  /** initFromQR(): the page URL carries no kassa_session / kassa_token (and none is stored for this tab). */
  | 'missing_qr_parameters'
  /** injectPaymentMethods(): the target is not an element, or the selector matches nothing. */
  | 'invalid_element'
  /** Kassa could not be reached (offline, DNS, CORS refused). */
  | 'network_error'
  /** The client token is not valid (401). */
  | 'unauthorized'
  /** No such checkout for this token (404). */
  | 'session_not_found'
  /** The checkout is no longer OPEN: completed, canceled or expired (409 / 410). */
  | 'session_closed'
  /** The checkout is open but no payment method is eligible for it. */
  | 'no_payment_methods'
  /** Any other failure; `status` and `problem` say more. */
  | 'request_failed';

export interface KassaError extends Error {
  readonly name: 'KassaError';
  readonly code: KassaErrorCode;
  /** The HTTP status when the error came from Kassa's API, else null. */
  readonly status: number | null;
  /** The RFC 9457 problem document Kassa answered with, if any. */
  readonly problem: { code: string; detail: string; [member: string]: unknown } | null;
}

export interface EligiblePaymentMethod {
  type: PaymentMethodType;
  display_order: number;
  /** Card only: the accepted brands. */
  brands?: string[];
}

/** `GET /v1/checkouts/{id}/session`: what the SDK shows, and where it sends the shopper. */
export interface CheckoutSessionSummary {
  object: 'checkout_session';
  checkout_id: string;
  livemode: boolean;
  status: 'OPEN' | 'COMPLETED' | 'CANCELED' | 'EXPIRED';
  locale: string;
  expires_at: string;
  checkout_redirect_url: string;
  merchant: { display_name: string };
  order: {
    merchant_order_id: string;
    currency: string;
    country_code: string;
    /** Every amount is an integer of minor units of `currency`. */
    subtotal_amount: number;
    discounts: { amount: number; description?: string }[];
    taxes: { amount: number; description?: string }[];
    shipping_amount: number;
    total_amount: number;
    products: { name: string; quantity: number; unit_price: number }[];
  };
}

export interface InitOptions {
  /** The checkout id (chk_…) your server created. */
  sessionId: string;
  /** The checkout's client_token (ct_…): safe for the browser, scoped to this one checkout. */
  token: string;
  /** Kassa's base URL; default: the origin (and path prefix) kassa.js was loaded from. */
  baseUrl?: string;
}

export interface InitFromQROptions {
  baseUrl?: string;
  /** Read the parameters from this URL instead of the page's (the address bar is then left alone). */
  url?: string;
  /** Default true: remove kassa_token from the address bar and history after reading it. */
  cleanUrl?: boolean;
}

export interface InjectOptions {
  /**
   * Language of the rendered labels (EN, ES_LATAM, DA or a BCP 47 tag; by language when not exact); default:
   * the checkout's locale, then the browser's languages, then English.
   */
  locale?: string;
  /**
   * `false`: add no default styles (the markup is then unstyled). Default `true`: a small stylesheet, installed
   * once per page, that any rule of the page's own overrides (docs/sdk.md, "Styling").
   */
  styles?: boolean;
  /** Nonce for the fallback `<style>` element, in browsers without constructable stylesheets only. */
  styleNonce?: string;
}

export interface InjectResult {
  session: CheckoutSessionSummary;
  methods: EligiblePaymentMethod[];
}

export interface KassaCheckout {
  readonly sessionId: string;
  readonly baseUrl: string;
  /** The payment link the session was opened from (initFromQR), else null. */
  readonly paymentLinkId: string | null;
  getSession(): Promise<CheckoutSessionSummary>;
  getPaymentMethods(): Promise<EligiblePaymentMethod[]>;
  /**
   * Renders the eligible methods as radio buttons plus a "Continue to secure payment" button into `target`.
   * Resolves once rendered; rejects with a KassaError (`no_payment_methods` when none is available).
   */
  injectPaymentMethods(target: Element | string, options?: InjectOptions): Promise<InjectResult>;
  /** Kassa's secure payment page for this session, with `method` preselected. */
  securePageUrl(method?: PaymentMethodType): string;
  /** Navigates to securePageUrl(method). */
  proceed(method?: PaymentMethodType): void;
}

export interface KassaSdk {
  readonly version: string;
  readonly KassaError: new (code: KassaErrorCode, message: string) => KassaError;
  init(options: InitOptions): KassaCheckout;
  initFromQR(options?: InitFromQROptions): KassaCheckout;
  /** injectPaymentMethods() of the client the last init() / initFromQR() created. */
  injectPaymentMethods(target: Element | string, options?: InjectOptions): Promise<InjectResult>;
}

declare global {
  interface Window {
    Kassa: KassaSdk;
  }
  const Kassa: KassaSdk;
}
