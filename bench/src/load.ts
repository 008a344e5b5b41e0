/**
 * Machine load during a timed loop: the CPU time used by *other* processes, as a percentage
 * of wall time × CPUs. Read from `/proc/stat` (all CPUs) minus `/proc/self/stat` (this
 * process, every thread). On systems without `/proc` the value is `null`, never a guess.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Linux reports both files in USER_HZ ticks, which is 100 on every mainstream kernel build. */
const TICKS_PER_S = 100;

/** A snapshot to diff later. */
export interface LoadMark {
  readonly wallMs: number;
  readonly busyTicks: number;
  readonly ownTicks: number;
}

function readProc(): { busy: number; own: number } | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already inside user)
    const busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0);
    const self = readFileSync('/proc/self/stat', 'utf8');
    // fields after the parenthesised command name; utime and stime are fields 14 and 15
    const rest = self.slice(self.lastIndexOf(')') + 2).split(' ');
    const own = Number(rest[11]) + Number(rest[12]);
    return { busy, own };
  } catch {
    return null;
  }
}

/** Starts a measurement; `null` when /proc is unavailable. */
export function markLoad(): LoadMark | null {
  const p = readProc();
  return p ? { wallMs: performance.now(), busyTicks: p.busy, ownTicks: p.own } : null;
}

/** Other processes' CPU use since `mark`, in % of wall × nCPU (clamped at 0). */
export function otherCpuPct(mark: LoadMark | null, ncpu = availableParallelism()): number | null {
  const p = readProc();
  if (!mark || !p) return null;
  const wallTicks = ((performance.now() - mark.wallMs) / 1000) * TICKS_PER_S * ncpu;
  if (wallTicks <= 0) return 0;
  const other = p.busy - mark.busyTicks - (p.own - mark.ownTicks);
  return Math.min(100, Math.max(0, (100 * other) / wallTicks));
}

/** Threshold above which a loop is flagged as noisy (spec: runs above 5% are suspect). */
export const NOISY_PCT = 5;

/**
 * Samples the load for `sampleMs` repeatedly until it is below `NOISY_PCT` or `maxWaitMs`
 * has passed; returns the last reading. Used before each suite ("wait for a quiet machine").
 */
export async function waitForQuiet(maxWaitMs: number, sampleMs = 500): Promise<number | null> {
  if (maxWaitMs <= 0) return null;
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const m = markLoad();
    await new Promise((r) => setTimeout(r, sampleMs));
    const pct = otherCpuPct(m);
    if (pct === null || pct <= NOISY_PCT || performance.now() >= deadline) return pct;
  }
}
