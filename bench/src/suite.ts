/** Runs one implementation's suite in the current process: the body of a worker. */
import { createImpl } from './impl/index.js';
import { SkipError } from './impl/types.js';
import { type CaseId, type Sizes, specLoop } from './spec.js';
import { type CaseResult, type LoopOptions, timeLoop } from './timing.js';

/** Prefix of a worker's result line, so chatter from libraries on stdout cannot be mistaken for it. */
export const RESULT_MARKER = '@@NABLA_BENCH_RESULT';

/** A case that did not run, with the reason. */
export interface CaseSkip {
  readonly skipped: string;
}
/** A case that threw. */
export interface CaseError {
  readonly error: string;
}
/** One case's outcome. */
export type CaseOutcome = CaseResult | CaseSkip | CaseError;

/** One implementation's suite (one process, one repeat). */
export interface SuiteResult {
  readonly impl: string;
  readonly library?: string;
  readonly info?: Record<string, string | number | boolean>;
  readonly notes?: Record<string, string>;
  /** Set when the whole implementation is unavailable here. */
  readonly skipped?: string;
  readonly cases: Partial<Record<CaseId, CaseOutcome>>;
}

/** Steps whose device calls are counted after a case's timed loop (the counts are per step). */
export const COUNTED_STEPS = 3;

/**
 * Loop settings: `warmup`/`iters` left undefined take each case's spec values (W5, W6: 20 and
 * 200; the others 5 and 30).
 */
export type SuiteLoop = Omit<LoopOptions, 'warmup' | 'iters'> & { warmup?: number; iters?: number };

/** Runs `cases` of implementation `id`; never throws for a case or a missing implementation. */
export async function runSuite(
  id: string,
  cases: readonly CaseId[],
  sizes: Sizes,
  loop: SuiteLoop,
): Promise<SuiteResult> {
  let impl: Awaited<ReturnType<typeof createImpl>>;
  try {
    impl = await createImpl(id);
  } catch (e) {
    const reason = e instanceof SkipError ? e.message : `failed to load: ${(e as Error).message}`;
    return { impl: id, skipped: reason, cases: {} };
  }
  const out: Partial<Record<CaseId, CaseOutcome>> = {};
  for (const c of cases) {
    const ok = impl.supports(c);
    if (ok === false) continue;
    if (ok !== true) {
      out[c] = { skipped: ok };
      continue;
    }
    try {
      const prepared = await impl.prepare(c, sizes);
      try {
        const spec = specLoop(c);
        const result = await timeLoop(() => prepared.step(), {
          ...loop,
          warmup: loop.warmup ?? spec.warmup,
          iters: loop.iters ?? spec.iters,
        });
        if (impl.countSteps) result.counters = await impl.countSteps(prepared, COUNTED_STEPS);
        out[c] = result;
      } finally {
        prepared.dispose?.();
      }
    } catch (e) {
      out[c] = { error: (e as Error).stack?.split('\n').slice(0, 3).join(' | ') ?? String(e) };
    }
  }
  await impl.close?.();
  return {
    impl: impl.id,
    library: impl.library,
    info: impl.info,
    notes: impl.notes as Record<string, string>,
    cases: out,
  };
}
