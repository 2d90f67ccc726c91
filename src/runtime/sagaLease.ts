/**
 * Which process runs a saga's side effects: the holder of its lease (src/nats/leaseStore.ts) is
 * active (dispatches the outbox, fires timers), the others are standbys (apply events only).
 *
 * The active renews every third of the time to live with a revision-checked update that also
 * records through which outbox position it has published. It may dispatch only until the time to
 * live minus a margin has passed since it sent its last successful renewal, so it stops before a
 * standby can take over: a standby takes a lease whose expiry passed by more than the margin on its
 * own clock (or one released), with an update on the revision it saw. The new active's floor is
 * the former's `through`: its own rows up to there were published by the other process.
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from '../logger.js';
import type { LeaseEntry, LeaseHolder, LeaseStore, LeaseValue } from '../nats/leaseStore.js';
import { pidAlive } from '../store/liveness.js';

export type LeaseRole = 'active' | 'standby';

/** How soon after a dispatch the lease records the new position. */
const PUBLISHED_RENEW_MS = 100;

export interface SagaLease {
  readonly role: LeaseRole;
  /**
   * The process holding the lease as last seen: this one while active, else the holder a standby's
   * last look found (undefined when none held it: never taken, released, lapsed).
   */
  readonly holder: LeaseHolder | undefined;
  /** The lease's revision this process holds, while active. */
  readonly revision: number | undefined;
  /** Outbox position through which the former holder published (0 when it had none). */
  readonly floor: number;
  /** How often this process took the lease over from another holder or a lapsed lease. */
  readonly takeovers: number;
  /** The highest outbox position a lease value said was published (written here or read). */
  readonly through: number;
  /** Active, and the last renewal is recent enough that no other process can hold the lease. */
  mayDispatch(): boolean;
  start(): void;
  /** Commands were published: the position goes into the lease soon (within 100 ms), not at the next renewal. */
  published(): void;
  /**
   * Gives the lease up at once (it stops dispatching first; `quiesce` waits for a dispatch under
   * way), so a standby takes it on its next look. This process does not take it back for one time
   * to live. Resolves to whether it held the lease.
   */
  release(quiesce?: () => Promise<void>): Promise<boolean>;
  stop(): void;
}

export interface SagaLeaseOptions {
  saga: string;
  store: LeaseStore;
  ttlMs: number;
  log: Logger;
  /** Through which outbox position this process has published (for the lease value). */
  publishedThrough: () => number;
  /** The source stream's incarnation (its creation time), which positions count in. */
  epoch: () => Promise<string>;
  /** Became active; `floor` is the position the former holder published through. */
  onActive: (floor: number) => void;
  /** Stopped being active. */
  onStandby: () => void;
  /** Renewed (still active): a chance to pick up what no event or timer kicked. @default nothing */
  onRenewed?: () => void;
  /** A standby's look saw the active publish through `through`. */
  observed: (through: number) => void;
  /** @default this process */
  holder?: LeaseHolder;
}

/** This process, as a lease names it. */
export const thisProcess = (): LeaseHolder => ({ host: hostname(), pid: process.pid, id: randomUUID() });

class SagaLeaseImpl implements SagaLease {
  /** What this process last knew; `role` says standby once a renewal is overdue (a process that was frozen). */
  private held: LeaseRole = 'standby';
  holder: LeaseHolder | undefined;
  revision: number | undefined;
  floor = 0;
  takeovers = 0;
  through = 0;
  private readonly me: LeaseHolder;
  // Clock skew between processes must stay below the margin.
  private readonly marginMs: number;
  private readonly renewEveryMs: number;
  private readonly lookEveryMs: number;
  /** performance.now() when the last successful write was sent. */
  private renewedAt = Number.NEGATIVE_INFINITY;
  /** This process released the lease: it does not take it back before then (epoch ms). */
  private holdOffUntil = 0;
  private epoch: string | undefined;
  private running = false;
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() when the timer fires. */
  private nextAt = 0;
  private busy: Promise<void> | undefined;
  private warned = false;

  constructor(private readonly o: SagaLeaseOptions) {
    this.me = o.holder ?? thisProcess();
    this.marginMs = Math.max(200, Math.floor(o.ttlMs / 10));
    this.renewEveryMs = Math.max(50, Math.floor(o.ttlMs / 3));
    this.lookEveryMs = Math.max(50, Math.min(1_000, Math.floor(o.ttlMs / 4)));
  }

  get role(): LeaseRole {
    return this.mayDispatch() ? 'active' : 'standby';
  }

  mayDispatch(): boolean {
    return this.held === 'active' && performance.now() - this.renewedAt < this.o.ttlMs - this.marginMs;
  }

  private value(released = false): LeaseValue {
    const through = Math.max(this.floor, this.o.publishedThrough());
    this.through = Math.max(this.through, through);
    return {
      holder: this.me,
      expiresAt: Date.now() + (released ? 0 : this.o.ttlMs),
      through,
      ...(this.epoch ? { epoch: this.epoch } : {}),
      ...(released ? { released: true } : {}),
    };
  }

  private becomeActive(rev: number, sentAt: number, from: LeaseEntry | undefined): void {
    const { saga, log } = this.o;
    this.revision = rev;
    this.renewedAt = sentAt;
    this.holder = this.me;
    if (from && from.value.holder.id !== this.me.id) {
      this.takeovers++;
      const { host, pid } = from.value.holder;
      log.warn(
        { saga, from: { host, pid }, floor: this.floor, revision: rev },
        from.value.released ? 'lease handed over: active' : 'lease lapsed: taking over, active',
      );
    } else log.info({ saga, revision: rev, floor: this.floor }, 'lease taken: active');
    this.held = 'active';
    this.o.onActive(this.floor);
  }

  private becomeStandby(why: string): void {
    if (this.held !== 'active') return;
    this.held = 'standby';
    this.revision = undefined;
    this.holder = undefined;
    this.o.log.warn({ saga: this.o.saga }, `lease ${why}: standby`);
    this.o.onStandby();
  }

  private async renew(): Promise<void> {
    const sentAt = performance.now();
    const rev = await this.o.store.update(this.o.saga, this.value(), this.revision as number);
    if (rev === undefined) this.becomeStandby('taken by another process');
    else {
      this.revision = rev;
      this.renewedAt = sentAt;
      this.o.onRenewed?.();
    }
  }

  private async look(): Promise<void> {
    const { store, saga } = this.o;
    const sentAt = performance.now();
    const entry = await store.read(saga);
    if (!entry) {
      this.epoch ??= await this.o.epoch();
      const rev = await store.create(saga, this.value());
      if (rev !== undefined) this.becomeActive(rev, sentAt, undefined);
      return;
    }
    const v = entry.value;
    const own = v.holder.id === this.me.id;
    const lapsed = v.released || Date.now() > v.expiresAt + this.marginMs || this.deadHere(v.holder);
    this.holder = lapsed ? undefined : v.holder;
    if (own && Date.now() < this.holdOffUntil) return;
    if (own || lapsed) {
      this.epoch ??= await this.o.epoch();
      if (v.epoch === undefined || v.epoch === this.epoch) this.floor = Math.max(this.floor, v.through);
      else
        this.o.log.warn(
          { saga, was: v.epoch, is: this.epoch },
          'source stream made anew since the last holder wrote its position; starting from none',
        );
      const rev = await store.update(saga, this.value(), entry.revision);
      if (rev !== undefined) this.becomeActive(rev, sentAt, entry);
      return;
    }
    this.through = Math.max(this.through, v.through);
    this.o.observed(v.through);
  }

  /** A holder on this machine whose process is gone (killed): its lease need not run out. */
  private deadHere(h: LeaseHolder): boolean {
    return h.host === this.me.host && h.pid !== process.pid && !pidAlive(h.pid);
  }

  private async tick(): Promise<void> {
    try {
      if (this.held === 'active') await this.renew();
      else await this.look();
      this.warned = false;
    } catch (e) {
      if (!this.warned) this.o.log.warn({ err: e, saga: this.o.saga }, 'lease store not reachable; retrying');
      this.warned = true;
    }
    // A renewal that could not be made in time: the lease may pass to another process.
    if (this.held === 'active' && !this.mayDispatch()) this.becomeStandby('not renewed in time');
  }

  private run(): void {
    this.busy = this.tick().finally(() => {
      this.busy = undefined;
      if (this.running) this.schedule(this.held === 'active' ? this.renewEveryMs : this.lookEveryMs);
    });
  }

  private schedule(delayMs: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.nextAt = performance.now() + delayMs;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.run();
    }, delayMs);
    this.timer.unref();
  }

  published(): void {
    // Soon rather than at the next renewal: a successor re-sends what was published after the last
    // value it reads, and a successor that first catches up for longer than the duplicate window
    // would store those again.
    if (this.held !== 'active' || !this.timer || this.nextAt - performance.now() <= PUBLISHED_RENEW_MS)
      return;
    this.schedule(PUBLISHED_RENEW_MS);
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.run();
  }

  async release(quiesce?: () => Promise<void>): Promise<boolean> {
    await this.busy;
    const held = this.revision;
    if (this.held !== 'active' || held === undefined) return false;
    // Set first: a look meanwhile must not take back what is being given up.
    this.holdOffUntil = Date.now() + this.o.ttlMs;
    this.held = 'standby';
    this.revision = undefined;
    this.holder = undefined;
    this.o.onStandby();
    await quiesce?.();
    try {
      const rev = await this.o.store.update(this.o.saga, this.value(true), held);
      this.o.log.info({ saga: this.o.saga, released: rev !== undefined }, 'lease released: standby');
    } catch (e) {
      this.o.log.warn(
        { err: e, saga: this.o.saga },
        'could not release the lease; it lapses after its time to live',
      );
    }
    return true;
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

export function createSagaLease(o: SagaLeaseOptions): SagaLease {
  return new SagaLeaseImpl(o);
}
