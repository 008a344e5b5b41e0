/**
 * The WGSL transcendental functions (src/kernels/wgsl-math.ts) against float64 over a sweep of
 * float32 bit patterns covering the whole range (both signs, subnormals, specials), in float32
 * ulps of the float64 result. Prints the measured maxima (the package README records them).
 * `NABLA_ULP_STRIDE` makes the sweep denser (default: every 4099th pattern, ~1M inputs).
 */
import { float32Sweep } from '@nabla/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { flatEntry, grid, PARAMS_HEADER, storage, WG } from '../src/kernels/wgsl.js';
import { WGSL_MATH } from '../src/kernels/wgsl-math.js';
import { openBackend } from './helpers.js';

const backend = await openBackend();

/** erf in float64: e^{-x²}·2/√π·Σ 2^n x^{2n+1}/(2n+1)!! (all terms positive: no cancellation). */
function erf64(x: number): number {
  const ax = Math.abs(x);
  if (Number.isNaN(x) || ax === 0) return x;
  if (ax >= 6) return Math.sign(x);
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 500 && term >= sum * 1e-17; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum);
}

/** float32 ulps between `got` and the float64 `ref`; specials must match (else Infinity). */
function ulpError(got: number, ref: number, flushesSubnormals: boolean): number {
  if (Number.isNaN(ref) || Number.isNaN(got)) return Number.isNaN(ref) && Number.isNaN(got) ? 0 : Infinity;
  const r32 = Math.fround(ref);
  if (!Number.isFinite(r32) || !Number.isFinite(got)) return r32 === got ? 0 : Infinity;
  const a = Math.abs(ref);
  // WGSL lets a device flush subnormal results to zero: a zero for a subnormal result is allowed there
  if (flushesSubnormals && a < 2 ** -126 && got === 0) return 0;
  const ulp = a < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(a)) - 23);
  return Math.abs(got - ref) / ulp;
}

/** Largest error allowed per function, in ulps (the README's numbers, rounded up). */
const functions: [string, (x: number) => number, number][] = [
  ['nb_exp', Math.exp, 1],
  ['nb_log', Math.log, 1],
  ['nb_log1p', Math.log1p, 3],
  ['nb_tanh', Math.tanh, 2],
  ['nb_erf', erf64, 3],
  ['nb_sigmoid', (x) => 1 / (1 + Math.exp(-x)), 3],
];

describe.skipIf(!backend)('WGSL transcendental functions (wgsl-math.ts) against float64', () => {
  const b = backend! as any;
  afterAll(() => b.destroy());
  const measured: string[] = [];
  afterAll(() => console.log(`[wgsl-math] max ulp: ${measured.join(', ')}`));
  const x = float32Sweep(Number(process.env.NABLA_ULP_STRIDE ?? 4099));

  it.each(functions)('%s within its bound over the float32 range', async (name, ref, bound) => {
    const source = `${PARAMS_HEADER}
${storage(1, 'x', 'f32', false)}
${storage(2, 'y', 'f32', true)}
${WGSL_MATH}
${flatEntry(WG)}
  if (gid >= pu(0u)) { return; }
  y[gid] = ${name}(x[gid]);
}
`;
    const input = b.alloc(x.length, 'float32');
    b.write(input, x);
    const output = b.alloc(x.length, 'float32');
    b.runtime.dispatch({
      source,
      label: name,
      bindings: [b.bind(input, name), b.bind(output, name, true)],
      params: (w: any) => w.u(x.length),
      groups: grid(Math.ceil(x.length / WG), b.maxPerDim),
    });
    const y = (await b.read(output)) as Float32Array;
    b.disposeBuffer(input);
    b.disposeBuffer(output);
    let worst = 0;
    let at = 0;
    let flushed = 0;
    for (let i = 0; i < x.length; i++) {
      let r = ref(x[i]);
      // WGSL also lets a device read a subnormal input as zero: then f(±0) is the right answer
      if (x[i] !== 0 && Math.abs(x[i]) < 2 ** -126 && ulpError(y[i], r, true) > bound) r = ref(0 * x[i]);
      if (y[i] === 0 && r !== 0 && Math.abs(r) < 2 ** -126 && Math.fround(r) !== 0) flushed++;
      const e = ulpError(y[i], r, true);
      if (e > worst) {
        worst = e;
        at = x[i];
      }
    }
    measured.push(
      `${name} ${worst.toFixed(2)} (at ${at}${flushed ? `; ${flushed} subnormal results flushed to 0` : ''})`,
    );
    expect(worst, `${name}: worst at x = ${at}`).toBeLessThanOrEqual(bound);
  });
});
