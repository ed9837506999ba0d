/**
 * The API key the demo shop (`/demo`, `demo-shop.routes.ts`) calls Kassa with.
 *
 * The demo shop is a merchant website that happens to live in the same process: it knows the demo merchant
 * only by its secret API key, exactly as a separate shop would. That key exists in clear only where it was
 * shown once — `<dataDir>/demo-credentials.json`, read by `ensureDemoMerchant` after the app is built — so
 * the routes read it here at request time: `main.ts` provides the demo merchant's saved key, tests provide
 * a merchant they created. Until a key is provided the shop says it is not configured.
 */
export type DemoShopCredentials = {
  /** The secret API key (`sk_test_…`), or undefined while none was provided. */
  apiKey(): string | undefined;
  /** Provides (or replaces) the key. */
  use(credentials: { apiKey: string }): void;
};

export function createDemoShopCredentials(initial?: { apiKey: string }): DemoShopCredentials {
  let apiKey = initial?.apiKey;
  return {
    apiKey: () => apiKey,
    use(credentials) {
      apiKey = credentials.apiKey;
    },
  };
}
