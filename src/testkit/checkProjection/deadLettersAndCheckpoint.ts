/**
 * The dead letters and checkpoint the real runtime left for a worker, read from its bookkeeping
 * tables after a run over NATS.
 */
import type { SqliteDatabase } from '../../store/database.js';
import type { Model } from './readModels.js';

export function deadLettersAndCheckpoint(
  db: Pick<SqliteDatabase, 'prepare'>,
  worker: string,
): Pick<Model, 'deadLetters' | 'checkpoint'> {
  return {
    deadLetters: new Map(
      (
        db
          .prepare(
            'SELECT stream_seq AS seq, reason FROM prosa_dead_letters WHERE worker = ? ORDER BY stream_seq',
          )
          .all(worker) as { seq: number; reason: string }[]
      ).map((d) => [d.seq, d.reason]),
    ),
    checkpoint:
      (
        db.prepare('SELECT seq FROM prosa_checkpoints WHERE worker = ?').get(worker) as
          | { seq: number }
          | undefined
      )?.seq ?? 0,
  };
}
