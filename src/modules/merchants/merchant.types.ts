export type CallbackUrls = {
  ok?: string;
  fail?: string;
  open?: string;
  notification?: string;
  verify_order?: string;
};

export type Merchant = {
  id: string;
  name: string;
  displayName: string | null;
  logoUrl: string | null;
  primaryColor: string | null;
  defaultLocale: string;
  defaultCallbacks: CallbackUrls;
  defaultCapture: 'automatic' | 'manual';
  defaultSessionLifetimeSeconds: number;
  /** May send raw card data to the Processor API (set by the operator, not through the API). */
  cardDataPermitted: boolean;
  /** The Kassa-Version the merchant is pinned to; null until its first authenticated request. */
  apiVersion: string | null;
  version: number;
  createdAt: Date;
  updatedAt: Date;
};

/** Who is calling: a merchant in one mode, through one credential. Every query is scoped by both. */
export type MerchantPrincipal = {
  merchantId: string;
  livemode: boolean;
  credential: { kind: 'access_token' | 'api_key'; id: string };
  /** The scopes this credential holds (src/modules/auth/scopes.ts); a bare name implies its `:read`. */
  scopes: ReadonlySet<string>;
};

export type IssuedCredentials = {
  merchantId: string;
  livemode: boolean;
  clientId: string;
  clientSecret: string;
  apiKey: string;
};
