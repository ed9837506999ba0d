import { invalidStateError } from './errors.ts';

/**
 * One transition table per aggregate (house rule 2). A machine is defined once, as data, and checked when
 * its module loads: every target must be a known status, no status may list itself, and the graph must be
 * acyclic — which is what "statuses only move forward" means: no sequence of transitions can ever return an
 * object to a status it has left, so a late or replayed update can never move anything backwards.
 */

export type TransitionTable<S extends string> = { readonly [From in S]: readonly S[] };

/**
 * How a requested move relates to the table: `advance` (an edge of the table), `same` (already there — a
 * duplicate), `refused` (not an edge: backwards, sideways or out of a terminal status).
 */
export type TransitionCheck = 'advance' | 'same' | 'refused';

export type StateMachine<S extends string> = {
  /** The object name used in error messages ("checkout", "order", "payment"). */
  readonly name: string;
  readonly statuses: readonly S[];
  readonly initial: S;
  readonly transitions: TransitionTable<S>;
  isStatus(value: unknown): value is S;
  /** The statuses `from` may move to. */
  nextStatuses(from: S): readonly S[];
  /** The statuses from which `to` may be reached in one step. */
  sourcesOf(to: S): readonly S[];
  isTerminal(status: S): boolean;
  check(from: S, to: S): TransitionCheck;
  /**
   * Throws a coded 409 (`invalid_state_transition`) unless `from → to` is an edge of the table. The error
   * names the current status and the statuses from which `action` is allowed. A same-status request is
   * refused too: callers that want duplicates to be no-ops use `check()` and skip on `same`.
   */
  assertTransition(from: S, to: S, action: string): void;
};

export function defineStateMachine<const S extends string>(definition: {
  name: string;
  statuses: readonly S[];
  initial: S;
  transitions: TransitionTable<S>;
}): StateMachine<S> {
  const { name, statuses, initial, transitions } = definition;
  validateTable(name, statuses, transitions);
  const known = new Set<string>(statuses);
  const sources = new Map<S, S[]>(statuses.map((status) => [status, []]));
  for (const from of statuses) for (const to of transitions[from]) sources.get(to)!.push(from);

  const machine: StateMachine<S> = {
    name,
    statuses,
    initial,
    transitions,
    isStatus: (value): value is S => typeof value === 'string' && known.has(value),
    nextStatuses: (from) => transitions[from],
    sourcesOf: (to) => sources.get(to) ?? [],
    isTerminal: (status) => transitions[status].length === 0,
    check(from, to) {
      if (from === to) return 'same';
      return transitions[from].includes(to) ? 'advance' : 'refused';
    },
    assertTransition(from, to, action) {
      if (machine.check(from, to) !== 'advance')
        throw invalidStateError(name, from, machine.sourcesOf(to), action);
    },
  };
  return machine;
}

/** Fails loudly at module load when a table is malformed, so a bad edit never reaches a request. */
function validateTable<S extends string>(
  name: string,
  statuses: readonly S[],
  transitions: TransitionTable<S>,
) {
  const known = new Set<string>(statuses);
  for (const from of statuses) {
    for (const to of transitions[from] ?? []) {
      if (!known.has(to)) throw new Error(`${name} state machine: ${from} → ${to} names an unknown status`);
      if (to === from) throw new Error(`${name} state machine: ${from} lists itself`);
    }
  }
  // Depth-first search for a cycle: white (unseen), grey (on the current path), black (done).
  const colour = new Map<S, 'grey' | 'black'>();
  const visit = (status: S, path: S[]) => {
    if (colour.get(status) === 'black') return;
    if (colour.get(status) === 'grey') {
      throw new Error(`${name} state machine has a cycle: ${[...path, status].join(' → ')}`);
    }
    colour.set(status, 'grey');
    for (const next of transitions[status]) visit(next, [...path, status]);
    colour.set(status, 'black');
  };
  for (const status of statuses) visit(status, []);
}
