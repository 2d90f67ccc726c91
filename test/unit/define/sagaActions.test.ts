// Pins down how a live actor's effect actions come out before the saga engine depends on it:
// actions queued by enqueueActions, and exit actions when a final state is entered.

import { describe, expect, it } from 'vitest';
import { createActor, enqueueActions, setup } from 'xstate';
import { type EffectSink, sagaActions, withEffectSink } from '../../../src/define/saga.js';

type Ev = { type: 'go'; n: number } | { type: 'finish' };

const machine = setup({
  types: { events: {} as Ev, context: {} as { n: number } },
  actions: { ...sagaActions },
}).createMachine({
  initial: 'waiting',
  context: { n: 0 },
  states: {
    waiting: {
      entry: { type: 'startTimeout', params: { name: 'stuck' } },
      exit: { type: 'cancelTimeout', params: { name: 'stuck' } },
      on: {
        go: {
          actions: enqueueActions(({ event, enqueue }) => {
            if (event.type !== 'go') return;
            for (let i = 0; i < event.n; i++)
              enqueue({ type: 'emitCommand', params: { type: 'Cmd', aggregateId: `a${i}`, data: { i } } });
          }),
        },
        finish: {
          target: 'done',
          actions: { type: 'emitCommand', params: { type: 'Last', aggregateId: 'a', data: null } },
        },
      },
    },
    done: {
      type: 'final',
      entry: { type: 'emitCommand', params: { type: 'Entered', aggregateId: 'a', data: null } },
    },
  },
});

const recorder = () => {
  const effects: string[] = [];
  const sink: EffectSink = {
    emitCommand: (p) => effects.push(`emit ${p.type} ${p.aggregateId}`),
    startTimeout: (p) => effects.push(`start ${p.name}`),
    cancelTimeout: (p) => effects.push(`cancel ${p.name}`),
  };
  return { effects, sink };
};

describe('saga actions on a live actor', () => {
  describe('when the actor starts', () => {
    it('runs the initial entry actions inside the sink of start()', () => {
      const { effects, sink } = recorder();
      withEffectSink(sink, () => createActor(machine).start());
      expect(effects).toEqual(['start stuck']);
    });
  });

  describe('when enqueueActions queues several commands', () => {
    it('records them synchronously inside send(), in order', () => {
      const actor = withEffectSink(recorder().sink, () => createActor(machine).start());
      const { effects, sink } = recorder();
      withEffectSink(sink, () => actor.send({ type: 'go', n: 3 }));
      expect(effects).toEqual(['emit Cmd a0', 'emit Cmd a1', 'emit Cmd a2']);
    });
  });

  describe('when a transition enters a final state', () => {
    it('runs exit, then transition, then entry actions, and the actor is done', () => {
      const actor = withEffectSink(recorder().sink, () => createActor(machine).start());
      const { effects, sink } = recorder();
      withEffectSink(sink, () => actor.send({ type: 'finish' }));
      expect(effects).toEqual(['cancel stuck', 'emit Last a', 'emit Entered a']);
      expect(actor.getSnapshot().status).toBe('done');
    });
  });

  describe('when an action runs outside any sink', () => {
    it('puts the actor in error with a message that says how to run it', () => {
      const actor = createActor(machine);
      actor.subscribe({ error: () => {} });
      actor.start();
      const snap = actor.getSnapshot();
      expect(snap.status).toBe('error');
      expect(String((snap as { error?: Error }).error?.message)).toContain('outside the saga runtime');
    });
  });

  describe('when an actor is restored from a persisted snapshot', () => {
    it('does not run entry actions again', () => {
      const actor = withEffectSink(recorder().sink, () => createActor(machine).start());
      const persisted = actor.getPersistedSnapshot();
      const { effects, sink } = recorder();
      withEffectSink(sink, () => createActor(machine, { snapshot: persisted }).start());
      expect(effects).toEqual([]);
    });
  });
});
