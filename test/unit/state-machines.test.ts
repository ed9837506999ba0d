import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/lib/errors.ts';
import { defineStateMachine, type StateMachine } from '../../src/lib/state-machine.ts';
import {
  checkoutEventType,
  checkoutStateMachine,
  CHECKOUT_STATUSES,
} from '../../src/modules/checkouts/checkout.states.ts';
import { orderStateMachine } from '../../src/modules/orders/order.states.ts';
import { paymentStateMachine } from '../../src/modules/payments/payment.states.ts';

const MACHINES: [string, StateMachine<string>][] = [
  ['checkout', checkoutStateMachine as StateMachine<string>],
  ['order', orderStateMachine as StateMachine<string>],
  ['payment', paymentStateMachine as StateMachine<string>],
];

function reachableFrom<S extends string>(machine: StateMachine<S>, start: S): Set<S> {
  const seen = new Set<S>([start]);
  const queue = [start];
  while (queue.length > 0) {
    for (const next of machine.nextStatuses(queue.shift()!)) {
      if (!seen.has(next)) {
        seen.add(next);
        queue.push(next);
      }
    }
  }
  return seen;
}

describe.each(MACHINES)('%s state machine', (_name, machine) => {
  it('reaches every status from the initial one', () => {
    expect([...reachableFrom(machine, machine.initial)].sort()).toEqual([...machine.statuses].sort());
  });

  it('only moves forward: no sequence of transitions returns to a status it left', () => {
    for (const status of machine.statuses) {
      for (const next of machine.nextStatuses(status)) {
        expect(reachableFrom(machine, next).has(status), `${status} → ${next} → … → ${status}`).toBe(false);
      }
    }
  });

  it('a random walk never revisits a status and ends in a terminal one', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(), { maxLength: 20 }), (choices) => {
        let current = machine.initial;
        const visited = [current];
        for (const choice of choices) {
          const options = machine.nextStatuses(current);
          if (options.length === 0) break;
          current = options[choice % options.length]!;
          expect(visited).not.toContain(current);
          visited.push(current);
        }
        return true;
      }),
    );
  });

  it('refuses every non-edge with a coded 409 naming the current status and the allowed ones', () => {
    for (const from of machine.statuses) {
      for (const to of machine.statuses) {
        const verdict = machine.check(from, to);
        if (from === to) expect(verdict).toBe('same');
        else expect(verdict).toBe(machine.nextStatuses(from).includes(to) ? 'advance' : 'refused');
        if (verdict === 'advance') {
          expect(() => machine.assertTransition(from, to, 'move')).not.toThrow();
          continue;
        }
        let error: unknown;
        try {
          machine.assertTransition(from, to, 'move');
        } catch (caught) {
          error = caught;
        }
        expect(error).toBeInstanceOf(AppError);
        const appError = error as AppError;
        expect(appError.code).toBe('invalid_state_transition');
        expect(appError.status).toBe(409);
        expect(appError.extensions).toEqual({
          current_status: from,
          allowed_statuses: machine.sourcesOf(to),
        });
        expect(appError.message).toContain(`whose status is ${from}`);
      }
    }
  });

  it('terminal statuses have no way out', () => {
    for (const status of machine.statuses.filter((s) => machine.isTerminal(s))) {
      expect(machine.nextStatuses(status)).toEqual([]);
    }
  });
});

describe('the documented tables', () => {
  it('checkout: OPEN → COMPLETED | CANCELED | EXPIRED, all final', () => {
    expect(checkoutStateMachine.transitions).toEqual({
      OPEN: ['COMPLETED', 'CANCELED', 'EXPIRED'],
      COMPLETED: [],
      CANCELED: [],
      EXPIRED: [],
    });
    expect(
      CHECKOUT_STATUSES.filter((s) => s !== 'OPEN').map((s) =>
        checkoutEventType(s as Exclude<typeof s, 'OPEN'>),
      ),
    ).toEqual(['checkout.completed', 'checkout.canceled', 'checkout.expired']);
  });

  it('order: follows the money and never goes back', () => {
    expect(orderStateMachine.check('CREATED', 'PAID')).toBe('advance'); // a synchronous approval skips steps
    expect(orderStateMachine.check('AUTHORIZED', 'CANCELED')).toBe('advance'); // void
    expect(orderStateMachine.check('PAID', 'AUTHORIZED')).toBe('refused');
    expect(orderStateMachine.check('REFUNDED', 'PARTIALLY_REFUNDED')).toBe('refused');
    expect(orderStateMachine.check('PAID', 'CANCELED')).toBe('refused'); // money moved: refund instead
    expect(orderStateMachine.check('PENDING', 'EXPIRED')).toBe('refused');
    expect(orderStateMachine.sourcesOf('EXPIRED')).toEqual(['CREATED']);
  });

  it('payment: a late notification cannot reopen a decided payment', () => {
    expect(paymentStateMachine.check('SUCCEEDED', 'AUTHORIZED')).toBe('refused');
    expect(paymentStateMachine.check('REJECTED', 'SUCCEEDED')).toBe('refused');
    expect(paymentStateMachine.check('REQUIRES_ACTION', 'PENDING')).toBe('refused');
    expect(paymentStateMachine.check('AUTHORIZED', 'SUCCEEDED')).toBe('advance');
  });
});

describe('defineStateMachine', () => {
  it('rejects a table with a cycle, a self-loop or an unknown target when it is defined', () => {
    expect(() =>
      defineStateMachine({
        name: 'loop',
        statuses: ['A', 'B'],
        initial: 'A',
        transitions: { A: ['B'], B: ['A'] },
      }),
    ).toThrow(/cycle: A → B → A/);
    expect(() =>
      defineStateMachine({ name: 'self', statuses: ['A'], initial: 'A', transitions: { A: ['A'] } }),
    ).toThrow(/lists itself/);
    expect(() =>
      defineStateMachine({
        name: 'typo',
        statuses: ['A', 'B'],
        initial: 'A',
        transitions: { A: ['C' as 'B'], B: [] },
      }),
    ).toThrow(/unknown status/);
  });

  it('tells statuses from other strings', () => {
    expect(orderStateMachine.isStatus('PAID')).toBe(true);
    expect(orderStateMachine.isStatus('paid')).toBe(false);
    expect(orderStateMachine.isStatus(undefined)).toBe(false);
  });
});
