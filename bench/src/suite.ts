/** Runs one implementation's suite in the current process: the body of a worker. */
import { createImpl } from './impl/index.js';
import { SkipError } from './impl/types.js';
import type { CaseId, Sizes } from './spec.js';
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

/** Runs `cases` of implementation `id`; never throws for a case or a missing implementation. */
export async function runSuite(
  id: string,
  cases: readonly CaseId[],
  sizes: Sizes,
  loop: LoopOptions,
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
        out[c] = await timeLoop(() => prepared.step(), loop);
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
