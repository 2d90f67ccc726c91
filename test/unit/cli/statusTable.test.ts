// `prosa status` without --json: the worker table, then what each saga has under way (issue 5:
// active instances, commands waiting in the outbox, the next timeout due), then notes.

import { describe, expect, it } from 'vitest';
import { formatStatusTable } from '../../../src/cli/format/statusTable.js';
import type { WorkerStatus } from '../../../src/ops/status.js';

const worker = (over: Partial<WorkerStatus>): WorkerStatus => ({
  name: 'topology',
  kind: 'projection',
  stream: 'INFRASTRUCTURE_EVENTS',
  consumer: 'topology',
  checkpoint: 120,
  streamLastSeq: 120,
  lag: 0,
  deadLettered: 0,
  waiting: 0,
  liveActors: 40,
  state: 'running',
  eventsPerSecond: 0,
  gaps: [],
  ...over,
});

describe('formatStatusTable', () => {
  it('shows each saga its instances, outbox and next timeout below the workers', () => {
    const text = formatStatusTable({
      projections: [worker({})],
      sagas: [
        worker({
          name: 'decommission',
          kind: 'saga',
          checkpoint: 100,
          lag: 20,
          activeInstances: 7,
          outboxPending: 2,
          nextTimeoutAt: '2026-12-01T02:05:00.000Z',
        }),
        worker({
          name: 'provisioning',
          kind: 'saga',
          activeInstances: 0,
          outboxPending: 0,
          nextTimeoutAt: null,
        }),
      ],
    });
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+KIND\s+STATE\s+CHECKPOINT\s+STREAM LAST\s+LAG/);
    expect(lines[2]).toMatch(/^decommission\s+saga\s+running\s+100\s+120\s+20\s/);
    expect(text).toMatch(/\nSAGA\s+INSTANCES\s+OUTBOX\s+NEXT TIMEOUT\n/);
    expect(text).toMatch(/\ndecommission\s+7\s+2\s+2026-12-01T02:05:00\.000Z\n/);
    expect(text).toMatch(/\nprovisioning\s+0\s+0\s+-\n/);
  });

  it("shows each saga this process's role and the active process when the leases are known", () => {
    const saga = (name: string, lease: WorkerStatus['lease']) =>
      worker({ name, kind: 'saga', activeInstances: 1, outboxPending: 0, nextTimeoutAt: null, lease });
    const text = formatStatusTable({
      projections: [],
      sagas: [
        saga('decommission', { active: { host: 'host-a', pid: 4121 }, role: 'standby' }),
        saga('provisioning', { active: null, role: 'standby' }),
      ],
    });
    expect(text).toMatch(/\nSAGA\s+INSTANCES\s+OUTBOX\s+NEXT TIMEOUT\s+ROLE\s+ACTIVE PROCESS\n/);
    expect(text).toMatch(/\ndecommission\s+1\s+0\s+-\s+standby\s+host-a pid 4121\n/);
    expect(text).toMatch(/\nprovisioning\s+1\s+0\s+-\s+standby\s+-\n/);
  });

  it('shows no saga table when only projections run, and the notes after the tables', () => {
    const text = formatStatusTable({
      projections: [worker({ gaps: [{ from: 5, to: 9 }], detail: 'paused by operator' })],
      sagas: [],
    });
    expect(text).not.toMatch(/SAGA/);
    expect(text.trimEnd().split('\n').slice(-2)).toEqual([
      'topology: paused by operator',
      'topology: GAP, messages 5..9 were dropped by the stream before they were applied',
    ]);
  });

  it('says under the tables how big the database file and its WAL are, and what is free', () => {
    const text = formatStatusTable({
      projections: [worker({ detail: 'paused by operator' })],
      sagas: [worker({ name: 'decommission', kind: 'saga', activeInstances: 1, outboxPending: 0 })],
      database: {
        path: '/srv/app/.prosa/prosa.db',
        bytes: 25_165_824,
        walBytes: 4_194_304 + 512,
        pageSize: 4_096,
        pages: 6_144,
        freePages: 256,
      },
    });
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(-3)).toEqual([
      'DATABASE  /srv/app/.prosa/prosa.db  24.0 MiB + WAL 4.0 MiB, 1.0 MiB free (256 of 6144 pages)',
      '',
      'topology: paused by operator',
    ]);
    expect(text.indexOf('DATABASE')).toBeGreaterThan(text.indexOf('\ndecommission  1'));
  });

  it('gives the sizes alone when the database is not open (no page counts)', () => {
    const text = formatStatusTable({
      projections: [worker({})],
      sagas: [],
      database: { path: 'prosa.db', bytes: 0, walBytes: 0, pageSize: null, pages: null, freePages: null },
    });
    expect(text.trimEnd().split('\n').at(-1)).toBe('DATABASE  prosa.db  0 B + WAL 0 B');
  });
});
