/** `prosa status --wait-caught-up`: polls the checkpoints until each worker reaches its stream's end as of now. */
import type { JetStreamManager } from '@nats-io/jetstream';
import { lastSeqOnSubjects, type ResolvedConfig, readCheckpoint } from '../internal.js';
import { openIfExists } from './connect.js';

/** Resolves to the workers still behind when `timeoutMs` ran out (empty: all caught up). */
export async function waitCaughtUp(
  config: ResolvedConfig,
  jsm: JetStreamManager,
  timeoutMs: number,
): Promise<string[]> {
  const db = openIfExists(config);
  try {
    const all = [...config.projections, ...config.sagas];
    const targets = await Promise.all(
      all.map(
        async (p) => [p.name, await lastSeqOnSubjects(jsm, p.source.stream, p.source.subjects)] as const,
      ),
    );
    const checkpoint = (name: string) => (db ? readCheckpoint(db, name)?.seq : undefined) ?? 0;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const behind = targets.filter(([name, seq]) => checkpoint(name) < seq);
      if (behind.length === 0) return [];
      if (performance.now() >= deadline)
        return behind.map(([name, seq]) => `${name} (at ${checkpoint(name)} of ${seq})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    db?.close();
  }
}
