// Pointwise programs on the wasm backend (compiled per program, or with --jit false
// interpreted), and the fused adamStep kernel: microseconds per call (median of RUNS timed
// batches) at W5/W6 sizes and at 1M elements. The README's table also has the generated
// unary/binary kernels, measured with this script before they were removed.
// Usage: npm run build -w @nabla/core -w @nabla/backend-wasm && node packages/backend-wasm/scripts/bench-pointwise.mjs [--runs 15] [--threads 1,2]
import { E, pointwiseProgram } from '@nabla/core';
import { createWasmBackend } from '../dist/index.js';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : def;
};
const runs = Number(arg('runs', '15'));
const threadList = arg('threads', '1,2').split(',').map(Number);
const sizes = arg('sizes', '64,2048,8192,50176,1048576').split(',').map(Number);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
/** This process's CPU time in µs (robust to other processes on a busy machine; 1 thread only). */
const cpu = () => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
/**
 * Median µs per call of each function, interleaved (one batch of each per round) so drifts in
 * machine load hit both alike; batches sized to take about 3 ms.
 */
function timeAll(fs, clock) {
  const reps = fs.map((f) => {
    for (let i = 0; i < 20; i++) f();
    let r = 1;
    for (let t0 = performance.now(); performance.now() - t0 < 3; r *= 2) for (let i = 0; i < r; i++) f();
    return r;
  });
  const out = fs.map(() => []);
  for (let round = 0; round < runs; round++) {
    fs.forEach((f, k) => {
      const t0 = clock();
      for (let i = 0; i < reps[k]; i++) f();
      out[k].push((clock() - t0) / reps[k]);
    });
  }
  return out.map(median);
}

const add = pointwiseProgram('bench_add', {
  inputs: ['float32', 'float32'],
  outputs: [E.add(E.input(0), E.input(1))],
});
const reluGrad = pointwiseProgram('bench_relu_grad', {
  inputs: ['float32', 'float32'],
  outputs: [E.select(E.gt(E.input(1), 0), E.input(0), 0)],
});
// Adam with bias corrections folded into per-call scalars (lr/bc1, 1/sqrt(bc2))
const g = E.input(1);
const m = E.add(E.mul(E.input(2), E.scalar(0)), E.mul(g, E.sub(1, E.scalar(0))));
const v = E.add(E.mul(E.input(3), E.scalar(1)), E.mul(E.mul(g, g), E.sub(1, E.scalar(1))));
const adam = pointwiseProgram('bench_adam', {
  inputs: ['float32', 'float32', 'float32', 'float32'],
  scalars: ['float32', 'float32', 'float32', 'float32', 'float32'],
  outputs: [
    E.sub(E.input(0), E.div(E.mul(E.scalar(2), m), E.add(E.mul(E.sqrt(v), E.scalar(3)), E.scalar(4)))),
    m,
    v,
  ],
});

const jit = arg('jit', 'true') !== 'false';
for (const threads of threadList) {
  const be = await createWasmBackend({ threads, jit });
  console.log(
    `threads=${be.capabilities.info.threads}, pointwise ${jit ? 'compiled' : 'interpreted'} (µs per call, median of ${runs}; ${threads === 1 ? 'process CPU time' : 'wall time'})`,
  );
  console.log('n        |     add | bias [n/64,64] | relu grad | adam: pw adamStep | exp');
  for (const n of sizes) {
    const bufs = [0, 1, 2, 3].map(() => be.alloc(n, 'float32'));
    const data = new Float32Array(n).map((_, i) => ((i * 7919) % 1000) / 1000 - 0.5);
    for (const b of bufs) be.write(b, data);
    be.write(bufs[3], data.map(Math.abs));
    const out = be.alloc(n, 'float32');
    const bias = be.alloc(64, 'float32');
    be.write(bias, data.subarray(0, 64));
    const id = (b) => ({ buffer: b, offset: 0, strides: [1] });
    const row = (b) => ({ buffer: b, offset: 0, strides: [64, 1] });
    const pw = (program, inputs, outputs, scalars = [], shape = [n]) =>
      be.pointwise({ program, inputs, scalars, outputs, shape });
    const shape2 = [n / 64, 64];
    const clock = threads === 1 ? cpu : () => performance.now() * 1000;
    const expP = pointwiseProgram('bench_exp', { inputs: ['float32'], outputs: [E.exp(E.input(0))] });
    const adamArgs = {
      lr: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0,
      decoupled: false,
      amsgrad: false,
      step: 3,
    };
    const brow = { buffer: bias, offset: 0, strides: [0, 1] };
    const cols = timeAll(
      [
        () => pw(add, [id(bufs[0]), id(bufs[1])], [out]),
        () => pw(add, [row(bufs[0]), brow], [out], [], shape2),
        () => pw(reluGrad, [id(bufs[0]), id(bufs[1])], [out]),
        () =>
          pw(
            adam,
            [id(bufs[0]), id(bufs[1]), id(bufs[2]), id(bufs[3])],
            [bufs[0], bufs[2], bufs[3]],
            [0.9, 0.999, 1e-3, 1, 1e-8],
          ),
        () => be.adamStep(bufs[0], bufs[1], bufs[2], bufs[3], null, adamArgs),
        () => pw(expP, [id(bufs[0])], [out]),
      ],
      clock,
    );
    const f = (x) => x.toFixed(x < 10 ? 2 : x < 100 ? 1 : 0).padStart(7);
    console.log(
      `${String(n).padEnd(8)} | ${f(cols[0])} | ${f(cols[1])} | ${f(cols[2])} | ${f(cols[3])} ${f(cols[4])} | ${f(cols[5])}`,
    );
    for (const b of [...bufs, out, bias]) be.disposeBuffer(b);
  }
  be.destroy();
}
