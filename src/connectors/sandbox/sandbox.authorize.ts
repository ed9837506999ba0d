import { cardLast4, detectCardBrand, normalizeCardNumber } from '../../lib/card.ts';
import type {
  AuthorizeRequest,
  AuthorizeResult,
  OperationResult,
  SaleRequest,
  SaleResult,
} from '../connector.ts';
import {
  assertKey,
  assertMoney,
  captureRequestHash,
  fail,
  hashRequest,
  newReference,
  replay,
  type SandboxContext,
} from './sandbox.context.ts';
import {
  findOperationByKey,
  insertAuthorization,
  type NewOperation,
  type NewPayment,
} from './sandbox.ledger.ts';
import { assertNever, decideAuthorization, SANDBOX_DECLINE_MESSAGES } from './sandbox.scenarios.ts';
import type { SandboxConnector } from './sandbox.types.ts';

type StoredErrorResult = { error: { code: 'processor_error'; message: string } };
type AuthorizeOutcome = SaleResult | StoredErrorResult;

/** What the authorization part of a (sale) result was: a sale that captured was authorized. */
function authorizationStatusOf(result: SaleResult): AuthorizeResult['status'] {
  return result.status === 'captured' ? 'authorized' : result.status;
}

/** The sandbox's `authorize` and `sale`: the card's scenario decides (`sandbox.scenarios.ts`). */
export function createSandboxAuthorization(
  context: SandboxContext,
): Pick<SandboxConnector, 'authorize' | 'sale'> {
  const { db, clock, pendingDelayMs, withFaults, actionFor } = context;

  /**
   * An authorization, and for a sale (`captureKey` given) its capture when the card is approved at once: the
   * authorize operation (under the request's key), the payment row and the capture operation (under the
   * capture key, answering exactly what `capture` with that key would) are one statement. A sale and an
   * authorization with the same key are the same request (same hash): a retry of either replays the first.
   */
  async function authorizeOrSell(request: AuthorizeRequest, captureKey: string | null): Promise<SaleResult> {
    if (request.livemode) {
      throw fail('invalid_request', 'The sandbox acquirer serves test mode only and never moves real money');
    }
    assertKey(request.idempotencyKey);
    if (captureKey !== null) {
      assertKey(captureKey);
      if (captureKey === request.idempotencyKey) {
        throw fail('invalid_request', 'A sale needs a capture key of its own');
      }
    }
    assertMoney(request.amount, request.currency);
    if (!request.paymentId) throw fail('invalid_request', 'A payment id is required');
    if (!/^https?:\/\//i.test(request.returnUrl ?? '') || !URL.canParse(request.returnUrl)) {
      throw fail('invalid_request', 'The return URL must be an absolute http(s) URL');
    }

    const { method } = request;
    const digits = method.type === 'card' ? normalizeCardNumber(method.card.number) : null;
    const card =
      method.type === 'card'
        ? { brand: digits ? detectCardBrand(digits) : 'unknown', last4: cardLast4(method.card.number) }
        : null;
    const requestHash = hashRequest([
      'authorize',
      request.paymentId,
      request.amount,
      request.currency,
      method.type,
      card?.last4 ?? null,
      method.type === 'card' ? [method.card.expMonth, method.card.expYear] : null,
    ]);

    const outcome = await withFaults(async (): Promise<AuthorizeOutcome> => {
      const now = clock.now();
      const decision = decideAuthorization(method, now);
      const operation = {
        id: newReference('sbxop'),
        idempotencyKey: request.idempotencyKey,
        requestHash,
        kind: 'authorize' as const,
        paymentId: request.paymentId,
        amount: request.amount,
        currency: request.currency,
        createdAt: now,
      };
      let result: AuthorizeOutcome;
      let payment: NewPayment | null = null;
      let capture: NewOperation | null = null;
      if (decision.kind === 'processor_error') {
        result = {
          error: { code: 'processor_error', message: 'The sandbox acquirer failed to process the payment' },
        };
      } else {
        const reference = newReference('sbx');
        let finaliseAt: Date | null = null;
        switch (decision.kind) {
          case 'approve':
            result = { status: 'authorized', connectorReference: reference };
            break;
          case 'decline':
            result = {
              status: 'declined',
              connectorReference: reference,
              declineCode: decision.declineCode,
              message: SANDBOX_DECLINE_MESSAGES[decision.declineCode],
            };
            break;
          case 'action':
            result = {
              status: 'requires_action',
              connectorReference: reference,
              action: actionFor(decision.action, reference),
            };
            break;
          case 'pending':
            result = { status: 'pending', connectorReference: reference };
            if (decision.autoFinalise) finaliseAt = new Date(now.getTime() + pendingDelayMs);
            break;
          default:
            return assertNever(decision);
        }
        payment = {
          reference,
          payment_id: request.paymentId,
          method_type: method.type,
          amount: request.amount,
          currency: request.currency,
          status: result.status,
          decline_code: result.status === 'declined' ? result.declineCode : null,
          action_kind: decision.kind === 'action' ? decision.action : null,
          return_url: request.returnUrl,
          card_brand: card?.brand ?? null,
          card_last4: card?.last4 ?? null,
          finalise_at: finaliseAt,
          created_at: now,
        };
        if (captureKey !== null && result.status === 'authorized') {
          const operationReference = newReference('sbxop');
          const captured: OperationResult = {
            status: 'succeeded',
            connectorReference: reference,
            operationReference,
          };
          capture = {
            id: operationReference,
            idempotencyKey: captureKey,
            // What `capture` hashes: a capture retried with this key replays this one.
            requestHash: captureRequestHash(reference, request.amount, request.currency),
            kind: 'capture',
            paymentReference: reference,
            paymentId: request.paymentId,
            amount: request.amount,
            currency: request.currency,
            outcome: captured.status,
            failureCode: null,
            result: captured,
            createdAt: now,
          };
          result = { status: 'captured', connectorReference: reference, operationReference };
        }
      }
      const recorded = await insertAuthorization(
        db,
        {
          ...operation,
          paymentReference: payment?.reference ?? null,
          // The authorization's own outcome; a sale's capture is the operation next to it.
          outcome: 'error' in result ? 'processor_error' : authorizationStatusOf(result),
          failureCode: 'status' in result && result.status === 'declined' ? result.declineCode : null,
          result,
        },
        payment,
        capture,
      );
      if (recorded) return result;
      // The key was used before (a retry, or a concurrent twin that committed first): its stored answer.
      const existing = await findOperationByKey(db, request.idempotencyKey);
      if (!existing) throw fail('unavailable', 'The sandbox acquirer lost track of this request; retry');
      // The hash starts with the operation kind, so a key first used for a capture never replays here.
      return replay(existing, requestHash) as AuthorizeOutcome;
    });

    if ('error' in outcome) throw fail('processor_error', outcome.error.message);
    return outcome;
  }

  async function authorize(request: AuthorizeRequest): Promise<AuthorizeResult> {
    const result = await authorizeOrSell(request, null);
    // A replayed sale that captured: as an authorization it is `authorized` (its capture stands under the
    // sale's capture key, which a `capture` with that key replays).
    return result.status === 'captured'
      ? { status: 'authorized', connectorReference: result.connectorReference }
      : result;
  }

  function sale(request: SaleRequest): Promise<SaleResult> {
    return authorizeOrSell(request, request.captureIdempotencyKey ?? '');
  }

  return { authorize, sale };
}
