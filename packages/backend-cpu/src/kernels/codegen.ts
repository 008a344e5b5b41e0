/**
 * Run-time code generation for the kernel templates, with an interpreter fallback.
 *
 * The templates (pointwise programs, reductions, the GEMM micro-kernel) emit JavaScript source
 * with the scalar operation inlined and compile it with `new Function`, which gives every
 * variant its own function literal: V8 keeps its type feedback monomorphic and inlines the
 * operation into the loop. Where a Content-Security-Policy forbids `'unsafe-eval'`,
 * `new Function` throws; each template then falls back to a generic loop (correct, several
 * times slower): programs and reductions through core's reference interpreter.
 */

let enabled = probe();

function probe(): boolean {
  try {
    return new Function('return 1')() === 1;
  } catch {
    return false;
  }
}

const caches: Map<unknown, unknown>[] = [];
const stats = { generated: 0, interpreted: 0 };

/** Records whether a kernel variant was generated or fell back to the interpreter. */
export function noteKernel(generated: boolean): void {
  if (generated) stats.generated++;
  else stats.interpreted++;
}

/** How many kernel variants were generated and how many are interpreted, since the last reset. */
export function kernelStats(): { generated: number; interpreted: number } {
  return { ...stats };
}

/** A kernel cache that is emptied when code generation is switched (see {@link setCodegen}). */
export function kernelCache<K, T>(): Map<K, T> {
  const m = new Map<K, T>();
  caches.push(m);
  return m;
}

/** Whether generated kernels are in use (false under a CSP without `'unsafe-eval'`). */
export function codegenEnabled(): boolean {
  return enabled;
}

/**
 * Turns code generation off (or back on, where the engine allows it) and empties the kernel
 * caches. Used by the tests of the fallback path.
 */
export function setCodegen(on: boolean): void {
  enabled = on && probe();
  for (const c of caches) c.clear();
  stats.generated = 0;
  stats.interpreted = 0;
}

/**
 * Compiles `body` with the given parameter names, or returns null when that is not allowed.
 * `name` becomes the source URL (`nabla-cpu/<name>.js`), so profiles and stack traces name
 * the kernel instead of showing an anonymous function.
 */
export function compile<F>(params: readonly string[], body: string, name: string): F | null {
  if (!enabled) return null;
  try {
    return new Function(...params, `'use strict';\n${body}\n//# sourceURL=nabla-cpu/${name}.js`) as F;
  } catch {
    return null;
  }
}
