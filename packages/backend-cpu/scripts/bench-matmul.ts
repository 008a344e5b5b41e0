/**
 * Matmul throughput of the cpu backend: median ms and GFLOP/s at 256/512/1024 for the four
 * transpose forms, and a naive triple loop for comparison (wall clock and process CPU time).
 * Not a test; run from the repo root:
 *   npx tsx packages/backend-cpu/scripts/bench-matmul.ts [sizes...]
 */
import { availableParallelism, loadavg } from 'node:os';
import { gemm } from '../src/kernels/matmul.js';

function naive(a: Float32Array, b: Float32Array, c: Float32Array, n: number): void {
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < n; p++) s += a[i * n + p] * b[p * n + j];
      c[i * n + j] = s;
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.floor(s.length / 2)];
}

/** Median wall-clock and median process-CPU milliseconds of `fn`, after one warm-up call. */
function time(fn: () => void, n: number): { wall: number; cpu: number } {
  fn(); // warm-up: compiles the kernels at this size
  const reps = n <= 256 ? 15 : n <= 512 ? 7 : 3;
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

const sizes = process.argv
  .slice(2)
  .map(Number)
  .filter((x) => x > 0);
const forms: [string, boolean, boolean][] = [
  ['A·B', false, false],
  ['Aᵀ·B', true, false],
  ['A·Bᵀ', false, true],
  ['Aᵀ·Bᵀ', true, true],
];
// Wall-clock time is what a user sees, but on a shared machine other processes steal the
// cores; this process's CPU time is the better measure of the kernel then. Both are printed,
// with the load average so a reader can tell which to trust.
console.log(`load average ${loadavg()[0].toFixed(2)} on ${availableParallelism()} cores`);
console.log('size  form      wall ms  GFLOP/s    cpu ms  GFLOP/s(cpu)');
for (const n of sizes.length > 0 ? sizes : [256, 512, 1024]) {
  const a = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const b = Float32Array.from({ length: n * n }, () => Math.random() - 0.5);
  const c = new Float32Array(n * n);
  const flops = 2 * n * n * n;
  const gf = (ms: number) => (flops / ms / 1e6).toFixed(2).padStart(8);
  const row = (name: string, t: { wall: number; cpu: number }) =>
    console.log(
      `${String(n).padEnd(6)}${name.padEnd(8)}${t.wall.toFixed(1).padStart(9)}${gf(t.wall)}${t.cpu.toFixed(1).padStart(10)}${gf(t.cpu)}`,
    );
  for (const [name, ta, tb] of forms)
    row(
      name,
      time(() => gemm(a, 0, ta, b, 0, tb, c, 0, n, n, n), n),
    );
  if (n <= 512)
    row(
      'naive',
      time(() => naive(a, b, c, n), n),
    );
}
