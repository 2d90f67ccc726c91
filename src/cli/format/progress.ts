/**
 * Progress of the long commands (`rebuild`, `demo`): a bar when a person is at the terminal,
 * otherwise a JSON line at most every 2 s, which logs and CI keep readably.
 */
import { SingleBar } from 'cli-progress';
import type { RebuildProgress } from '../../internal.js';

const lineEveryMs = 2_000;

export interface ProgressReporter<P extends unknown[]> {
  onProgress: (...progress: P) => void;
  /** Removes the bar; safe to call more than once. */
  stop: () => void;
}

export function rebuildProgress(
  name: string,
  tty: boolean,
  out: (text: string) => void,
): ProgressReporter<[RebuildProgress]> {
  const bar = tty
    ? new SingleBar({
        format: `rebuild ${name} [{bar}] {percentage}% | {value}/{total} | {rate} ev/s | ETA {eta_formatted} | {phase}`,
        hideCursor: true,
      })
    : undefined;
  let lastLine = 0;
  const onProgress = (p: RebuildProgress) => {
    if (bar) {
      if (bar.getTotal() !== p.target) bar.setTotal(p.target);
      if (!bar.isActive) bar.start(p.target, p.checkpoint, { rate: p.eventsPerSecond, phase: p.phase });
      bar.update(p.checkpoint, { rate: p.eventsPerSecond, phase: p.phase });
    } else if (performance.now() - lastLine >= lineEveryMs || p.phase === 'done' || p.phase === 'swapping') {
      lastLine = performance.now();
      out(`${JSON.stringify({ rebuild: name, ...p })}\n`);
    }
  };
  return { onProgress, stop: () => bar?.stop() };
}

/** Starts at once (the total is known); the final count is printed by the command, not as a line. */
export function demoProgress(
  events: number,
  tty: boolean,
  out: (text: string) => void,
): ProgressReporter<[published: number, total: number]> {
  const bar = tty
    ? new SingleBar({
        format: 'demo [{bar}] {percentage}% | {value}/{total} events | ETA {eta_formatted}',
        hideCursor: true,
      })
    : undefined;
  bar?.start(events, 0);
  let lastLine = performance.now();
  const onProgress = (published: number, total: number) => {
    if (bar) bar.update(published);
    else if (performance.now() - lastLine >= lineEveryMs && published < total) {
      lastLine = performance.now();
      out(`${JSON.stringify({ demo: { published, total } })}\n`);
    }
  };
  return { onProgress, stop: () => bar?.stop() };
}
