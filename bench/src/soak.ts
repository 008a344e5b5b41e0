/**
 * The long-run check of "Compiled steps": a compiled training step (W5 or W6, Adam) run for
 * many steps, with Nabla's `memory()` and the process's resident set size sampled as it goes.
 * `memory()` must not change at all after the first steps (captures); RSS must level off
 * (V8 grows its heap in steps, so the check is on the second half of the run).
 *
 *   npm run soak --workspace @nabla/bench -- [--backend wasm] [--case W5] [--steps 10000]
 *
 * Prints one line per sample and a verdict; exits 1 when memory grew.
 */
import { parseArgs } from 'node:util';
import * as core from '@nabla/core';
import { activateBackend, prepareNabla } from './impl/nabla.js';
import { FULL_SIZES } from './spec.js';

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    case: { type: 'string', default: 'W5' },
    steps: { type: 'string', default: '10000' },
  },
});
const backend = values.backend;
const id = values.case as 'W5' | 'W6';
const steps = Number(values.steps);
if (id !== 'W5' && id !== 'W6') throw new Error(`--case must be W5 or W6, got ${id}`);
if (!Number.isInteger(steps) || steps < 100)
  throw new Error(`--steps must be an integer >= 100, got ${steps}`);

await activateBackend(backend);
const prepared = prepareNabla(id, FULL_SIZES, true);
const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const every = Math.max(1, Math.floor(steps / 10));
const samples: {
  step: number;
  tensors: number;
  bytes: number;
  buffers: number;
  rss: number;
  heap: number;
}[] = [];
const t0 = performance.now();
for (let i = 1; i <= steps; i++) {
  await prepared.step();
  if (i === 10 || i % every === 0) {
    const m = core.memory();
    // With --expose-gc the heap is collected first, so `heap` is what is really retained.
    (globalThis as { gc?: () => void }).gc?.();
    const { rss, heapUsed } = process.memoryUsage();
    const s = { step: i, tensors: m.tensors, bytes: m.bytes, buffers: m.buffers, rss, heap: heapUsed };
    samples.push(s);
    console.log(
      `step ${String(i).padStart(6)}  memory(): ${s.tensors} tensors, ${s.buffers} buffers, ${s.bytes} bytes  rss ${mib(s.rss)} MiB, JS heap ${mib(s.heap)} MiB`,
    );
  }
}
const seconds = (performance.now() - t0) / 1000;
prepared.dispose?.();

const first = samples[0];
const flat = samples.every(
  (s) => s.tensors === first.tensors && s.bytes === first.bytes && s.buffers === first.buffers,
);
const half = samples.filter((s) => s.step >= steps / 2);
const rssGrowth = half[half.length - 1].rss - half[0].rss;
console.log(
  `${id} compiled on ${backend}: ${steps} steps in ${seconds.toFixed(1)} s; memory() ${flat ? 'flat' : 'GREW'} from step 10; ` +
    `RSS over the second half ${rssGrowth >= 0 ? '+' : ''}${mib(rssGrowth)} MiB (${mib(half[0].rss)} → ${mib(half[half.length - 1].rss)})`,
);
process.exit(flat ? 0 : 1);
