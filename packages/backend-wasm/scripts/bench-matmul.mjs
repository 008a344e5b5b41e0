// Matmul throughput of the wasm backend: GFLOP/s (median of RUNS timed runs) for the four
// transpose forms at 256, 512 and 1024, on 1 thread and on every core.
// Usage: npm run build -w @nabla/backend-wasm && node packages/backend-wasm/scripts/bench-matmul.mjs [--runs 30] [--threads 1,2] [--sizes 256,512,1024]
import { createWasmBackend } from '../dist/index.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const runs = Number(arg('runs', '30'));
const sizes = arg('sizes', '256,512,1024').split(',').map(Number);
const { availableParallelism } = await import('node:os');
const threadList = arg('threads', `1,${availableParallelism()}`).split(',').map(Number);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

for (const threads of [...new Set(threadList)]) {
  const be = await createWasmBackend({ threads });
  console.log(`threads=${be.capabilities.info.threads} relaxedSimd=${be.capabilities.info.relaxedSimd}`);
  for (const n of sizes) {
    const a = be.alloc(n * n, 'float32');
    const b = be.alloc(n * n, 'float32');
    const c = be.alloc(n * n, 'float32');
    const data = new Float32Array(n * n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    be.write(a, data);
    be.write(b, data);
    const row = [];
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ]) {
      const args = { a, b, out: c, batch: 1, m: n, n, k: n, transA: tA, transB: tB, strideA: 0, strideB: 0 };
      for (let i = 0; i < 3; i++) be.kernels.matmul(args);
      const times = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        be.kernels.matmul(args);
        times.push(performance.now() - t0);
      }
      const ms = median(times);
      row.push(`${tA ? 'Aᵀ' : 'A'}·${tB ? 'Bᵀ' : 'B'} ${((2 * n ** 3) / ms / 1e6).toFixed(1)}`);
    }
    console.log(`  ${n}³ GFLOP/s: ${row.join('  ')}`);
    for (const x of [a, b, c]) be.disposeBuffer(x);
  }
  be.destroy();
}
