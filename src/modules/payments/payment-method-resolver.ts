import type { CardDetails, PaymentMethodData } from '../../connectors/connector.ts';
import type { Database } from '../../db/client.ts';
import type { Clock } from '../../lib/clock.ts';
import type { Keyring } from '../../lib/keyring.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import type { Customer } from '../orders/order.types.ts';
import { loadChargeableCard, type SavedCard } from './saved-payment-method.service.ts';

/**
 * The one translation of "how the shopper pays" into what a connector is sent, shared by the hosted page
 * (`http/hosted/hosted-page.service.ts`) and the Processor API (`processor-api.service.ts`): card data as
 * checked (`card-input.ts`), a saved card unsealed for its owner, an invoice addressed to the order's
 * customer, or a wallet. Each caller words a refusal its own way.
 */

export type PaymentMethodChoice =
  | { type: 'card'; card: CardDetails }
  | { type: 'saved_card'; savedCardId: string }
  | { type: 'invoice' }
  | { type: 'wallet' };

export type ResolvedPaymentMethod = {
  method: PaymentMethodData;
  /** The saved card charged, if any. */
  savedCard: SavedCard | null;
};

/**
 * Who pays, read only for invoices and saved cards. `savedCardsAllowed`: whether this customer's saved
 * cards may be charged here (the hosted page allows them only for a customer the merchant vouched for).
 */
export type OrderPayer = { customer: Customer | null; savedCardsAllowed: boolean };

export type PaymentMethodResolverDeps = { db: Database; keyring: Keyring; clock: Clock };

/** The method data for the connector, or undefined when the saved card chosen is not chargeable here. */
export async function resolvePaymentMethod(
  deps: PaymentMethodResolverDeps,
  scope: Scope,
  choice: PaymentMethodChoice,
  payerOf: () => Promise<OrderPayer>,
): Promise<ResolvedPaymentMethod | undefined> {
  switch (choice.type) {
    case 'card':
      return { method: { type: 'card', card: choice.card }, savedCard: null };
    case 'wallet':
      return { method: { type: 'wallet' }, savedCard: null };
    case 'invoice': {
      const { customer } = await payerOf();
      const invoiceCustomer: { email?: string; firstName?: string; lastName?: string } = {};
      if (customer) {
        invoiceCustomer.email = customer.email;
        if (customer.firstName) invoiceCustomer.firstName = customer.firstName;
        if (customer.lastName) invoiceCustomer.lastName = customer.lastName;
      }
      return { method: { type: 'invoice', customer: invoiceCustomer }, savedCard: null };
    }
    case 'saved_card': {
      // A card saved by another customer (or merchant, or mode) is refused exactly like an unknown one.
      const { customer, savedCardsAllowed } = await payerOf();
      if (!customer || !savedCardsAllowed) return undefined;
      const chargeable = await loadChargeableCard(deps.db, deps, scope, customer.id, choice.savedCardId);
      return chargeable && { method: { type: 'card', card: chargeable.card }, savedCard: chargeable.saved };
    }
    default: {
      const unreachable: never = choice;
      throw new Error(`unknown payment method choice ${JSON.stringify(unreachable)}`);
    }
  }
}
