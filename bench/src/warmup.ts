/**
 * Step time as a run warms up: one case in a fresh process, every step timed, medians printed
 * per window of steps. The bench's own window for W5/W6 is steps 20–220 (20 warm-up, 200
 * timed), where V8 is still optimizing; the later windows show the steady state. Compare
 * `--mode compiled` with `--mode unprepared` (compiled without `Backend.prepare`) and `eager`.
 *
 *   npm run warmup --workspace @nabla/bench -- [--backend wasm] [--case W6] [--mode compiled] [--steps 3000]
 *
 * Prints one line: the medians per window and the other processes' CPU share over the run
 * (above 5%, the figures are not a quiet measurement).
 */
import { parseArgs } from 'node:util';
import { activateBackend, prepareNabla } from './impl/nabla.js';
import { markLoad, otherCpuPct } from './load.js';
import { type CaseId, FULL_SIZES } from './spec.js';
import { summarize } from './stats.js';

const MODES = { eager: false, compiled: true, unprepared: { prepare: false } } as const;

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    case: { type: 'string', default: 'W6' },
    mode: { type: 'string', default: 'compiled' },
    steps: { type: 'string', default: '3000' },
  },
});
const id = values.case as CaseId;
const steps = Number(values.steps);
if (!['W1', 'W5', 'W6'].includes(id)) throw new Error(`--case must be W1, W5 or W6, got ${id}`);
if (!Object.hasOwn(MODES, values.mode))
  throw new Error(`--mode must be one of ${Object.keys(MODES).join(', ')}`);
if (!Number.isInteger(steps) || steps < 300)
  throw new Error(`--steps must be an integer >= 300, got ${steps}`);

await activateBackend(values.backend);
const prepared = prepareNabla(id, FULL_SIZES, MODES[values.mode as keyof typeof MODES]);
const mark = markLoad();
const times: number[] = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await prepared.step();
  times.push(performance.now() - t0);
}
const other = otherCpuPct(mark);
prepared.dispose?.();

const edges = [0, 20, 220, 1000, 2000, steps].filter((e, i, a) => e <= steps && a.indexOf(e) === i);
const windows = edges.slice(1).map((end, i) => {
  const start = edges[i];
  return `${start}–${end}: ${summarize(times.slice(start, end)).median_ms.toFixed(3)}`;
});
console.log(
  `${id} ${values.backend} ${values.mode}: median ms per window of steps  ${windows.join('  ')}  ` +
    `(other CPU ${other === null ? 'n/a' : `${other.toFixed(1)}%`})`,
);
