// Where a second thread starts to pay: each kernel size on 1 thread against 2 threads forced
// to split (thresholds 0), the workers asleep before each call (the caller first runs alone
// for 300 µs, longer than the idle spin) as in an eager training step, and back to back
// (workers still spinning). Prints medians in µs and the speed-up of 2 threads; the
// thresholds in src/threading.ts are the sizes where the cold 2-thread time wins.
// Usage: npx tsup (in packages/backend-wasm) && node packages/backend-wasm/scripts/bench-threshold.mjs [--runs 60]
import { readFileSync } from 'node:fs';
import { E, pointwiseProgram } from '@nabla/core';
import { createWasmBackend } from '../dist/index.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const runs = Number(arg('runs', '60'));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Busy (other processes) CPU ticks and this process's ticks, to report other_cpu_pct. */
function load() {
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number);
  const self = readFileSync('/proc/self/stat', 'utf8');
  const rest = self.slice(self.lastIndexOf(')') + 2).split(' ');
  return {
    busy: cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] ?? 0),
    own: Number(rest[11]) + Number(rest[12]),
    t: performance.now(),
  };
}
const { availableParallelism } = await import('node:os');
const ncpu = availableParallelism();
const l0 = load();

const one = await createWasmBackend({ threads: 1 });
const two = await createWasmBackend({
  threads: 2,
  threading: { minParallelMacs: 0, minParallelElements: 0 },
});

function busy(us) {
  const t0 = performance.now();
  while (performance.now() - t0 < us / 1000) {}
}

function time(fn, cold) {
  for (let i = 0; i < 5; i++) fn();
  const xs = [];
  for (let i = 0; i < runs; i++) {
    if (cold) busy(300);
    const t0 = performance.now();
    fn();
    xs.push((performance.now() - t0) * 1000);
  }
  return median(xs);
}

function bufs(be, sizes) {
  return sizes.map((n) => {
    const b = be.alloc(n, 'float32');
    be.kernels.fill({ out: b, value: 0.5 });
    return b;
  });
}

console.log(`matmul (m, n, k): µs on 1 thread | 2 threads, workers asleep | 2 threads, back to back`);
const shapes = [
  [32, 64, 32],
  [32, 64, 64],
  [64, 32, 32],
  [64, 64, 32],
  [64, 64, 64],
  [64, 64, 128],
  [64, 128, 64],
  [128, 128, 64],
  [96, 96, 96],
  [128, 128, 128],
  [64, 128, 784],
  [128, 784, 64],
  [256, 64, 64],
  [160, 160, 160],
  [192, 192, 192],
  [256, 256, 256],
];
for (const [m, n, k] of shapes) {
  const row = [];
  for (const [be, cold] of [
    [one, false],
    [two, true],
    [two, false],
  ]) {
    const [a, b, c] = bufs(be, [m * k, k * n, m * n]);
    const args = { a, b, out: c, batch: 1, m, n, k, transA: false, transB: false, strideA: 0, strideB: 0 };
    row.push(time(() => be.kernels.matmul(args), cold));
    for (const x of [a, b, c]) be.disposeBuffer(x);
  }
  const macs = m * n * k;
  console.log(
    `  ${`${m}x${n}x${k}`.padEnd(12)} macs ${String(macs).padStart(8)}: ${row.map((x) => x.toFixed(1).padStart(7)).join(' |')}   speed-up asleep ${(row[0] / row[1]).toFixed(2)}, spinning ${(row[0] / row[2]).toFixed(2)}`,
  );
}

// add: one output from two inputs; sgd: SGD with momentum's in-place update (buf = 0.9·buf + g,
// p = p - lr·buf: three inputs, two outputs), the largest elementwise kernel of a W1 step.
const add = pointwiseProgram('threshold-add', {
  inputs: ['float32', 'float32'],
  outputs: [E.add(E.input(0), E.input(1))],
});
const momentum = E.add(E.mul(E.input(2), 0.9), E.input(1));
const sgd = pointwiseProgram('threshold-sgd', {
  inputs: ['float32', 'float32', 'float32'],
  scalars: ['float32'],
  outputs: [E.sub(E.input(0), E.mul(E.scalar(0), momentum)), momentum],
});
const fmt = (row) =>
  `${row.map((t) => t.toFixed(1).padStart(7)).join(' |')} (×${(row[0] / row[1]).toFixed(2)} asleep)`;
console.log(
  `elementwise add, sgd update and sum over rows (n elements): µs on 1 thread | 2 asleep | 2 spinning`,
);
for (const n of [1 << 12, 1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 18, 1 << 19, 1 << 20]) {
  const rows = { add: [], sgd: [], sum: [] };
  for (const [be, cold] of [
    [one, false],
    [two, true],
    [two, false],
  ]) {
    const [x, y, z, w] = bufs(be, [n, n, n, n]);
    const v = (buffer) => ({ buffer, offset: 0, strides: [1] });
    const shape = [n];
    rows.add.push(
      time(
        () => be.kernels.pointwise({ program: add, inputs: [v(x), v(y)], scalars: [], outputs: [z], shape }),
        cold,
      ),
    );
    rows.sgd.push(
      time(
        () =>
          be.kernels.pointwise({
            program: sgd,
            inputs: [v(x), v(y), v(z)],
            scalars: [1e-3],
            outputs: [x, z],
            shape,
          }),
        cold,
      ),
    );
    rows.sum.push(
      time(() => be.kernels.reduce({ op: 'sum', x: w, out: y, outer: n / 64, size: 64, inner: 1 }), cold),
    );
    for (const q of [x, y, z, w]) be.disposeBuffer(q);
  }
  console.log(
    `  ${String(n).padStart(8)}: add ${fmt(rows.add)}   sgd ${fmt(rows.sgd)}   sum ${fmt(rows.sum)}`,
  );
}
const l1 = load();
const wall = (l1.t - l0.t) / 1000;
const other = (l1.busy - l0.busy - (l1.own - l0.own)) / (wall * 100 * ncpu);
console.log(`other_cpu_pct during the run: ${(100 * Math.max(0, other)).toFixed(1)}% of ${ncpu} cores`);
one.destroy();
two.destroy();
