// A key's actor runs a pure machine by its own transitions (src/engine/keyActor.ts). These pin down that it
// behaves as the XState actor it replaces: same snapshots, same actions in the same order, the same
// error status, the same restore; and that machines which need a real actor get one.

import { describe, expect, it } from 'vitest';
import {
  type AnyStateMachine,
  assign,
  cancel,
  createActor,
  createMachine,
  emit,
  enqueueActions,
  fromPromise,
  raise,
  sendTo,
  setup,
} from 'xstate';
import { type EffectSink, sagaActions, withEffectSink } from '../../../src/define/saga.js';
import { createKeyActor, needsActor } from '../../../src/engine/keyActor.js';

type Ev = { type: 'add'; n: number } | { type: 'boom' } | { type: 'finish' } | { type: 'noise' };

const machine = setup({
  types: { events: {} as Ev, context: {} as { id: string; total: number }, input: {} as { id: string } },
  actions: {
    ...sagaActions,
    add: assign({ total: ({ context, event }) => context.total + (event.type === 'add' ? event.n : 0) }),
    boom: () => {
      throw new Error('the action failed');
    },
  },
  guards: { big: ({ context }) => context.total >= 10 },
}).createMachine({
  initial: 'open',
  context: ({ input }) => ({ id: input.id, total: 0 }),
  states: {
    open: {
      entry: { type: 'startTimeout', params: { name: 'stuck' } },
      exit: { type: 'cancelTimeout', params: { name: 'stuck' } },
      tags: 'counting',
      on: {
        add: [
          { guard: 'big', target: 'closed', actions: 'add' },
          {
            actions: [
              'add',
              enqueueActions(({ context, enqueue }) => {
                enqueue({
                  type: 'emitCommand',
                  params: { type: 'Added', aggregateId: context.id, data: { total: context.total } },
                });
              }),
            ],
          },
        ],
        boom: { actions: 'boom' },
      },
    },
    closed: {
      on: { finish: 'done' },
    },
    done: {
      type: 'final',
      entry: { type: 'emitCommand', params: { type: 'Finished', aggregateId: 'x', data: null } },
    },
  },
});

const recorder = () => {
  const effects: string[] = [];
  const sink: EffectSink = {
    emitCommand: (p) => effects.push(`emit ${p.type} ${JSON.stringify(p.data)}`),
    startTimeout: (p) => effects.push(`start ${p.name}`),
    cancelTimeout: (p) => effects.push(`cancel ${p.name}`),
  };
  return { effects, sink };
};

/** Runs events through an XState actor and through a key actor; returns what each showed. */
function both(events: Ev[], m: AnyStateMachine = machine) {
  const run = (start: (sink: EffectSink) => { send(e: Ev): void; getSnapshot(): unknown }) => {
    const { effects, sink } = recorder();
    const actor = withEffectSink(sink, () => start(sink));
    const seen: unknown[] = [];
    for (const e of events) {
      withEffectSink(sink, () => actor.send(e));
      const s = actor.getSnapshot() as { value: unknown; context: unknown; status: string };
      seen.push({ value: s.value, context: s.context, status: s.status });
    }
    return { effects, seen };
  };
  const xstate = run(() => {
    const a = createActor(m, { input: { id: 'k1' } });
    a.subscribe({ error: () => {} });
    return a.start();
  });
  const key = run(() => createKeyActor(m, { input: { id: 'k1' } }));
  return { xstate, key };
}

const add = (n: number): Ev => ({ type: 'add', n });

/** A key actor of `machine`, started inside a sink (its entry action starts a timeout). */
const started = (snapshot?: unknown) =>
  withEffectSink(recorder().sink, () =>
    createKeyActor(
      machine,
      snapshot === undefined ? { input: { id: 'k1' } } : { input: { id: 'k1' }, snapshot },
    ),
  );

describe('a key actor', () => {
  it('runs a pure machine without an XState actor', () => {
    expect(needsActor(machine)).toBe(false);
    expect(createKeyActor(machine, { input: { id: 'k1' } })).not.toHaveProperty('sessionId');
  });

  it('gives the snapshots and the effects, in order, of an XState actor', () => {
    const events: Ev[] = [
      { type: 'noise' },
      { type: 'add', n: 4 },
      { type: 'add', n: 7 },
      { type: 'add', n: 1 },
      { type: 'noise' },
      { type: 'finish' },
      { type: 'add', n: 5 }, // after done: ignored by both
    ];
    const { xstate, key } = both(events);
    expect(key).toEqual(xstate);
    expect(key.effects).toEqual([
      'start stuck',
      'emit Added {"total":4}',
      'emit Added {"total":11}',
      'cancel stuck',
      'emit Finished null',
    ]);
  });

  it('keeps the snapshot object when the machine ignores the event', () => {
    const actor = started();
    const before = actor.getSnapshot();
    actor.send({ type: 'noise' });
    expect(actor.getSnapshot()).toBe(before);
  });

  it('reads tags and matches as an XState snapshot does', () => {
    const actor = started();
    expect(actor.getSnapshot().hasTag('counting')).toBe(true);
    expect(actor.getSnapshot().matches('open')).toBe(true);
  });

  it('turns a throwing action into an error snapshot with the error, and ignores what follows', () => {
    const { xstate, key } = both([{ type: 'boom' }, { type: 'add', n: 1 }]);
    expect(key.seen).toEqual(xstate.seen);
    const actor = started();
    actor.send({ type: 'boom' });
    const snap = actor.getSnapshot();
    expect(snap.status).toBe('error');
    expect((snap.error as Error).message).toBe('the action failed');
  });

  it('restores a persisted snapshot without running entry actions again, as createActor does', () => {
    const first = started();
    withEffectSink(recorder().sink, () => first.send(add(3)));
    const persisted = JSON.parse(JSON.stringify(first.getPersistedSnapshot()));
    const { effects, sink } = recorder();
    const restored = withEffectSink(sink, () =>
      createKeyActor(machine, { input: { id: 'k1' }, snapshot: persisted }),
    );
    expect(effects).toEqual([]);
    withEffectSink(sink, () => restored.send(add(2)));
    expect(restored.getSnapshot().context).toEqual({ id: 'k1', total: 5 });
    expect(effects).toEqual(['emit Added {"total":5}']);
  });

  it('reports a child spawned from an action as an error, not as a child that never runs', () => {
    const spawner = setup({ actors: { job: fromPromise(async () => 1) } }).createMachine({
      context: {},
      on: { go: { actions: assign({ job: ({ spawn }) => spawn('job', { id: 'job-1' }) }) } },
    });
    expect(needsActor(spawner)).toBe(false);
    const actor = createKeyActor(spawner, { input: {} });
    actor.send({ type: 'go' });
    expect(actor.getSnapshot().status).toBe('error');
    expect((actor.getSnapshot().error as Error).message).toMatch(/spawned the child actor "job-1".*invoke/);
  });

  it('refuses a delayed event or a send to another actor, and lets cancel and emit be', () => {
    const m = setup({
      types: { events: {} as { type: 'later' } | { type: 'up' } | { type: 'calm' } },
    }).createMachine({
      on: {
        later: { actions: raise({ type: 'calm' }, { delay: 1000 }) },
        up: { actions: sendTo(({ self }) => self, { type: 'calm' }) },
        calm: { actions: [cancel('nothing'), emit({ type: 'noticed' })] },
      },
    });
    const run = (type: 'later' | 'up' | 'calm') => {
      const actor = createKeyActor(m, { input: {} });
      actor.send({ type });
      return actor.getSnapshot();
    };
    expect(run('calm').status).toBe('active');
    expect(run('later').status).toBe('error');
    expect((run('later').error as Error).message).toMatch(/delayed event.*startTimeout/);
    expect((run('up').error as Error).message).toMatch(/another actor/);
  });

  it('gives a machine that invokes actors or waits with `after` a real XState actor', () => {
    const invoking = setup({ actors: { job: fromPromise(async () => 1) } }).createMachine({
      initial: 'a',
      states: { a: { invoke: { src: 'job' } } },
    });
    const delayed = createMachine({
      initial: 'a',
      states: { a: { after: { 1000: 'b' } }, b: {} },
    });
    expect(needsActor(invoking)).toBe(true);
    expect(needsActor(delayed)).toBe(true);
    const actor = createKeyActor(delayed, { input: {} });
    expect(actor).toHaveProperty('sessionId');
    actor.stop();
  });
});
