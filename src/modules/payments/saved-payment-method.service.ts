import type { Queryable } from '../../db/client.ts';
import type { PageRequest } from '../../db/pagination.ts';
import type { CardDetails } from '../../connectors/connector.ts';
import {
  CARD_BRANDS,
  cardFingerprintCandidates,
  cardLast4,
  detectCardBrand,
  type CardBrand,
} from '../../lib/card.ts';
import type { Clock } from '../../lib/clock.ts';
import { newId } from '../../lib/ids.ts';
import type { Keyring } from '../../lib/keyring.ts';
import type { Scope } from '../checkouts/checkout.types.ts';
import {
  findSavedCard,
  listSavedCards,
  rekeySavedCardFingerprint,
  removeSavedCard,
  removeSavedCardsOfCustomer,
  upsertSavedCard,
  type SavedPaymentMethodRow,
} from './saved-payment-method.repository.ts';

/**
 * Cards a shopper chose to save (`allow_save_payment_methods`), for the same customer (merchant + mode +
 * e-mail) to pay with next time.
 *
 * What is kept: brand, last 4, expiry and the keyed fingerprint in clear (for display and de-duplication);
 * number, expiry and holder name sealed with the keyring's `saved-card-encryption` key (AES-256-GCM). The
 * CVC is NEVER kept: a saved card is charged as a stored credential, without one. The sealed data names the
 * customer and the fingerprint it belongs to, and is refused when moved to another row. Removing a card wipes
 * the sealed data.
 */

export type SavedCard = {
  id: string;
  customerId: string;
  livemode: boolean;
  brand: CardBrand;
  last4: string;
  expMonth: number;
  expYear: number;
  createdAt: Date;
};

export type SavedCardDeps = { keyring: Keyring; clock: Clock };

type SealedCard = {
  v: 1;
  customer_id: string;
  fingerprint: string;
  number: string;
  exp_month: number;
  exp_year: number;
  holder_name: string;
};

function toSavedCard(row: SavedPaymentMethodRow): SavedCard {
  const brand = (CARD_BRANDS as readonly string[]).includes(row.card_brand)
    ? (row.card_brand as CardBrand)
    : 'unknown';
  return {
    id: row.id,
    customerId: row.customer_id,
    livemode: row.livemode,
    brand,
    last4: row.card_last4,
    expMonth: row.card_exp_month,
    expYear: row.card_exp_year,
    createdAt: row.created_at,
  };
}

/** Saves the card just used (its number is in memory for this request only) for the customer. */
export async function saveCard(
  tx: Queryable,
  deps: SavedCardDeps,
  scope: Scope,
  customerId: string,
  card: CardDetails,
): Promise<SavedCard> {
  const [fingerprint, ...previous] = cardFingerprintCandidates(card.number, deps.keyring) as [
    string,
    ...string[],
  ];
  // The same card saved before a master-key rotation: its entry is found under the previous fingerprint.
  await rekeySavedCardFingerprint(tx, customerId, fingerprint, previous);
  const sealed: SealedCard = {
    v: 1,
    customer_id: customerId,
    fingerprint,
    number: card.number,
    exp_month: card.expMonth,
    exp_year: card.expYear,
    holder_name: card.holderName,
  };
  const row = await upsertSavedCard(tx, {
    id: newId('pm'),
    scope,
    customerId,
    brand: detectCardBrand(card.number),
    last4: cardLast4(card.number),
    expMonth: card.expMonth,
    expYear: card.expYear,
    fingerprint,
    encrypted: deps.keyring.encrypt('saved-card-encryption', JSON.stringify(sealed)),
    now: deps.clock.now(),
  });
  return toSavedCard(row);
}

export async function listCustomerSavedCards(
  db: Queryable,
  scope: Scope,
  customerId: string,
  page: PageRequest,
): Promise<SavedCard[]> {
  return (await listSavedCards(db, scope, customerId, page)).map(toSavedCard);
}

/**
 * The card data to charge a saved card with, as a stored credential (no CVC), or undefined when the card is
 * not this customer's, was removed, or its sealed data does not belong to its row.
 */
export async function loadChargeableCard(
  db: Queryable,
  deps: SavedCardDeps,
  scope: Scope,
  customerId: string,
  id: string,
): Promise<{ saved: SavedCard; card: CardDetails } | undefined> {
  const row = await findSavedCard(db, scope, customerId, id);
  if (!row || row.card_encrypted.length === 0) return undefined;
  let sealed: SealedCard;
  try {
    sealed = JSON.parse(
      deps.keyring.decrypt('saved-card-encryption', row.card_encrypted).toString('utf8'),
    ) as SealedCard;
  } catch {
    return undefined;
  }
  if (sealed.v !== 1 || sealed.customer_id !== row.customer_id || sealed.fingerprint !== row.card_fingerprint)
    return undefined;
  return {
    saved: toSavedCard(row),
    card: {
      number: sealed.number,
      expMonth: sealed.exp_month,
      expYear: sealed.exp_year,
      holderName: sealed.holder_name,
      cvc: '',
      storedCredential: true,
    },
  };
}

/** Removes a saved card of the customer; false when there is no such card. */
export function removeCustomerSavedCard(
  db: Queryable,
  deps: Pick<SavedCardDeps, 'clock'>,
  scope: Scope,
  customerId: string,
  id: string,
): Promise<boolean> {
  return removeSavedCard(db, scope, customerId, id, deps.clock.now());
}

/** Every saved card of a customer that is being deleted: removed, sealed card data wiped at once. */
export function removeAllCustomerSavedCards(
  db: Queryable,
  deps: Pick<SavedCardDeps, 'clock'>,
  scope: Scope,
  customerId: string,
): Promise<number> {
  return removeSavedCardsOfCustomer(db, scope, customerId, deps.clock.now());
}

export function presentSavedCard(card: SavedCard) {
  return {
    object: 'payment_method' as const,
    id: card.id,
    livemode: card.livemode,
    type: 'card' as const,
    customer_id: card.customerId,
    card: { brand: card.brand, last4: card.last4, exp_month: card.expMonth, exp_year: card.expYear },
    created_at: card.createdAt.toISOString(),
  };
}
