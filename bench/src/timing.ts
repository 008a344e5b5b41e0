/** The timed loop every JS implementation uses: warm-up, timed iterations, machine load. */

import type { StepCounters } from './impl/types.js';
import { type LoadMark, markLoad, NOISY_PCT, otherCpuPct } from './load.js';
import { type Stats, summarize } from './stats.js';

/** One case's measurement. */
export interface CaseResult {
  readonly samples_ms: number[];
  readonly stats: Stats;
  /** Other processes' CPU use during the timed iterations, % of wall × nCPU; null without /proc. */
  readonly other_cpu_pct: number | null;
  /** True when `other_cpu_pct` is above the spec's 5% threshold. */
  readonly noisy: boolean;
  /** This process's CPU time over wall time during the timed iterations: the cores it kept busy. */
  readonly own_cores: number;
  /** True when a time cap ended the loop before `iters` timed iterations (see {@link LoopOptions}). */
  readonly capped: boolean;
  /** Device calls per step, counted after the timed loop (Nabla only; see `Impl.countSteps`). */
  counters?: StepCounters;
}

/** Loop settings. */
export interface LoopOptions {
  readonly warmup: number;
  readonly iters: number;
  /**
   * Time caps in ms for very slow implementations (seconds per iteration): warm-up stops after
   * `warmupCapMs` (at least one iteration), timing after `timedCapMs` (at least `MIN_TIMED`
   * iterations). The result says when a cap cut the loop short. 0 or absent: no cap.
   */
  readonly warmupCapMs?: number;
  readonly timedCapMs?: number;
}

/** The fewest timed iterations a time cap may leave. */
export const MIN_TIMED = 5;

/**
 * Runs `step` `warmup` times untimed, then `iters` times timed one by one with
 * `performance.now()`. A step that returns a promise is awaited inside its own timing, so an
 * async readback is part of the iteration (the spec's sync rule).
 */
export async function timeLoop(step: () => unknown, opts: LoopOptions): Promise<CaseResult> {
  if (opts.iters < 1) throw new Error(`iters must be at least 1, got ${opts.iters}`);
  const w0 = performance.now();
  for (let i = 0; i < opts.warmup; i++) {
    await step();
    if (opts.warmupCapMs && performance.now() - w0 > opts.warmupCapMs) break;
  }
  const samples: number[] = [];
  const mark: LoadMark | null = markLoad();
  const cpu0 = process.cpuUsage();
  const wall0 = performance.now();
  for (let i = 0; i < opts.iters; i++) {
    const t0 = performance.now();
    await step();
    samples.push(performance.now() - t0);
    if (opts.timedCapMs && i + 1 >= MIN_TIMED && performance.now() - wall0 > opts.timedCapMs) break;
  }
  const cpu = process.cpuUsage(cpu0);
  const ownCores = (cpu.user + cpu.system) / 1000 / Math.max(1e-9, performance.now() - wall0);
  const pct = otherCpuPct(mark);
  return {
    samples_ms: samples,
    stats: summarize(samples),
    other_cpu_pct: pct,
    noisy: pct !== null && pct > NOISY_PCT,
    own_cores: ownCores,
    capped: samples.length < opts.iters,
  };
}
