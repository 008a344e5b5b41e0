// Measures the wasm transcendental functions (assembly/vmath.ts) against float64: compiles
// assembly/probe/ulp.ts, runs every function (scalar and f32x4 versions) over a sweep of
// float32 bit patterns (every `stride`-th pattern of all 2^32, both signs, plus the special
// values), and reports the largest error in float32 ulps of the float64 result. Special
// values (NaN, ±0, ±∞, overflow, underflow) must match exactly; they count as an error of ∞.
//
//   node scripts/ulp-report.mjs [stride]     (default 257: ~16.7M inputs per function)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { float32Sweep } from '@nabla/test-kit/float-sweep';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** erf in float64: e^{-x²}·2/√π·Σ 2^n x^{2n+1}/(2n+1)!! (all terms positive: no cancellation). */
export function erf64(x) {
  if (Number.isNaN(x)) return x;
  const ax = Math.abs(x);
  if (ax >= 6) return Math.sign(x);
  if (ax === 0) return x;
  let term = ax;
  let sum = ax;
  for (let n = 1; n < 500; n++) {
    term *= (2 * ax * ax) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return Math.sign(x) * Math.min(1, (2 / Math.sqrt(Math.PI)) * Math.exp(-ax * ax) * sum);
}

/** The functions, in the probe's order, with their float64 references. */
export const FUNCTIONS = [
  ['exp', Math.exp],
  ['log', Math.log],
  ['log1p', Math.log1p],
  ['tanh', Math.tanh],
  ['erf', erf64],
  ['sigmoid', (x) => 1 / (1 + Math.exp(-x))],
];

/** Compiles the probe module; returns `apply(fn, vector, x) -> y` over Float32Arrays. */
export function loadProbe() {
  const require = createRequire(import.meta.url);
  const asc = join(dirname(require.resolve('assemblyscript/package.json')), 'bin', 'asc.js');
  const out = join(mkdtempSync(join(tmpdir(), 'nabla-ulp-')), 'ulp.wasm');
  execFileSync(
    process.execPath,
    [
      asc,
      join(root, 'assembly', 'probe', 'ulp.ts'),
      '-o',
      out,
      '-O3',
      '--runtime',
      'stub',
      '--use',
      'abort=',
    ].concat(['--importMemory', '--initialMemory', '2', '--enable', 'simd', '--disableWarning', '112']),
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const chunk = 1 << 16;
  const memory = new WebAssembly.Memory({ initial: 2 + (8 * chunk) / 65536 });
  const { exports } = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(out)), {
    env: { memory },
  });
  const base = 65536;
  return (fn, vector, x) => {
    const y = new Float32Array(x.length);
    for (let o = 0; o < x.length; o += chunk) {
      const n = Math.min(chunk, x.length - o);
      new Float32Array(memory.buffer, base, n).set(x.subarray(o, o + n));
      exports.apply(fn, vector, base, base + 4 * chunk, (n + 3) & ~3);
      y.set(new Float32Array(memory.buffer, base + 4 * chunk, n), o);
    }
    return y;
  };
}

/** float32 ulp at the magnitude of `v` (a float64): 2^(exponent - 23), at least 2^-149. */
function ulp32(v) {
  const a = Math.abs(v);
  if (a < 2 ** -126) return 2 ** -149;
  return 2 ** (Math.floor(Math.log2(a)) - 23);
}

/**
 * Error of `got` (float32) against `ref` (float64), in float32 ulps of `ref`: 0 when both are
 * the same special value (NaN, ±∞, or a float64 beyond the float32 range that rounds to ∞),
 * Infinity when only one is special.
 */
export function ulpError(got, ref) {
  if (Number.isNaN(ref) || Number.isNaN(got)) return Number.isNaN(ref) && Number.isNaN(got) ? 0 : Infinity;
  const r32 = Math.fround(ref);
  if (!Number.isFinite(r32) || !Number.isFinite(got)) return r32 === got ? 0 : Infinity;
  return Math.abs(got - ref) / ulp32(ref);
}

/** Largest error per function and version: {name: {scalar, vector, at}} (`at` the worst input). */
export function measure(stride = 257) {
  const apply = loadProbe();
  const x = float32Sweep(stride, 4); // the probe's vector version reads 4 lanes at a time
  const report = {};
  for (const [i, [name, ref]] of FUNCTIONS.entries()) {
    const row = {};
    for (const [vector, label] of [
      [0, 'scalar'],
      [1, 'vector'],
    ]) {
      const y = apply(i, vector, x);
      let worst = 0;
      let at = 0;
      for (let k = 0; k < x.length; k++) {
        const e = ulpError(y[k], ref(x[k]));
        if (e > worst) {
          worst = e;
          at = x[k];
        }
      }
      row[label] = worst;
      row[`${label}At`] = at;
    }
    report[name] = row;
  }
  return report;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const stride = Number(process.argv[2] ?? 257);
  const report = measure(stride);
  console.log(
    `max error in float32 ulps vs float64, every ${stride}th float32 (${Math.floor(2 ** 32 / stride)} inputs)`,
  );
  for (const [name, r] of Object.entries(report))
    console.log(
      `${name.padEnd(8)} scalar ${r.scalar.toFixed(3)} (at ${r.scalarAt})  vector ${r.vector.toFixed(3)} (at ${r.vectorAt})`,
    );
}
