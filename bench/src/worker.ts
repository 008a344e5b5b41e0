/**
 * Child-process entry: `tsx src/worker.ts --impl <id> --cases W1,W3_AB [--warmup N --iters N] [--tiny]`.
 * Prints one line `RESULT_MARKER <json>` on stdout (libraries may print their own lines).
 */
import { parseArgs } from 'node:util';
import { type CaseId, FULL_SIZES, selectCases, TINY_SIZES } from './spec.js';
import { RESULT_MARKER, runSuite } from './suite.js';

const { values } = parseArgs({
  options: {
    impl: { type: 'string' },
    cases: { type: 'string', default: '' },
    warmup: { type: 'string' },
    iters: { type: 'string' },
    tiny: { type: 'boolean', default: false },
    'warmup-cap-s': { type: 'string', default: '0' },
    'timed-cap-s': { type: 'string', default: '0' },
  },
});
if (!values.impl) throw new Error('worker: --impl is required');
// Some backends wait on unref'd worker threads; without an active handle Node would exit with
// code 13 (unsettled top-level await) before they answer. The process exits explicitly below.
const keepAlive = setInterval(() => {}, 1 << 30);
const cases = selectCases(values.cases ? values.cases.split(',') : []) as CaseId[];
const result = await runSuite(values.impl, cases, values.tiny ? TINY_SIZES : FULL_SIZES, {
  // absent: each case's spec values
  warmup: values.warmup === undefined ? undefined : Number(values.warmup),
  iters: values.iters === undefined ? undefined : Number(values.iters),
  warmupCapMs: Number(values['warmup-cap-s']) * 1000,
  timedCapMs: Number(values['timed-cap-s']) * 1000,
});
process.stdout.write(`\n${RESULT_MARKER} ${JSON.stringify(result)}\n`);
clearInterval(keepAlive);
// some implementations keep worker threads alive; the result is out, so end the process
process.exit(0);
