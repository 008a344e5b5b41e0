/**
 * `npm run bench -- [W1 W2 W3 W4 | case ids] [options]`: runs every implementation's suite in
 * its own child process, interleaved (A B C … then A B C … again), prints the table, writes
 * `bench/results/<time>.json` and, for a full run, regenerates `docs/benchmarks.md` + `.svg`.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JS_IMPLS, NABLA_BACKENDS } from './impl/index.js';
import { NOISY_PCT, waitForQuiet } from './load.js';
import { machineInfo } from './machine.js';
import { type ImplRecord, markdownReport, type RunFile, svgChart, terminalTable } from './report.js';
import { CASE_IDS, type CaseId, FULL_SIZES, SPEC, selectCases, specLoop, TINY_SIZES } from './spec.js';
import { RESULT_MARKER, type SuiteResult } from './suite.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH_DIR = resolve(HERE, '..');
const REPO = resolve(BENCH_DIR, '..');
/**
 * The two PyTorch peers, run by the same script: `torch` is Debian's PyTorch 1.13 on the system
 * Python; `torch2` is the CPU wheel of PyTorch 2.x in a virtual environment, found through
 * `NABLA_BENCH_TORCH2_PYTHON` or else `bench/.venv-torch2` (made by `bench/scripts/setup-torch2.sh`).
 * The builds differ by up to 4× per workload, so the ratios are also given against the faster one.
 */
const TORCH_PYTHONS: Record<string, { python: string; how: string }> = {
  torch: {
    python: process.env.NABLA_BENCH_TORCH_PYTHON ?? '/usr/bin/python3',
    how: "Debian's python3-torch",
  },
  torch2: {
    python: process.env.NABLA_BENCH_TORCH2_PYTHON ?? join(BENCH_DIR, '.venv-torch2', 'bin', 'python'),
    how: 'run bench/scripts/setup-torch2.sh or set NABLA_BENCH_TORCH2_PYTHON to a python with torch 2.x',
  },
};
const isTorch = (impl: string) => Object.hasOwn(TORCH_PYTHONS, impl);

const USAGE = `usage: npm run bench -- [W1 W2 W3 W4 W5 W6 | case id ...] [options]
  --backend cpu,wasm     Nabla backends to run, eager and compiled (default: all: ${NABLA_BACKENDS.join(', ')})
  --impl a,b             exactly these implementations (ids: ${[...JS_IMPLS, ...Object.keys(TORCH_PYTHONS)].join(', ')})
  --no-peers             Nabla backends only
  --no-plainjs           leave out the plain-JS matmul baselines (each iteration takes seconds)
  --warmup N --iters N   per process (default: the spec's, ${SPEC.timing.warmup} and ${SPEC.timing.iters}; W5, W6: 20 and 200)
  --repeats N            processes per implementation (default 2)
  --tiny                 tiny shapes, to check the harness (numbers meaningless)
  --docs / --no-docs     force / prevent regenerating docs/benchmarks.md (default: only on a full run)
  --report FILE          regenerate the docs and table from a results JSON, run nothing
  --quiet-wait S         wait up to S seconds for a quiet machine before each suite (default 20)
  --results-dir DIR      where the run's JSON goes (default bench/results)
  --warmup-cap-s S       stop warm-up after S seconds (at least 1 iteration; default 5; 0 = no cap)
  --timed-cap-s S        stop timing after S seconds (at least 5 iterations; default 30; 0 = no cap).
                         Only implementations taking seconds per iteration hit the caps; their
                         results are marked "time-capped" with the iteration count.
PyTorch peers: torch = ${TORCH_PYTHONS.torch.python}; torch2 = $NABLA_BENCH_TORCH2_PYTHON or
  bench/.venv-torch2/bin/python (bench/scripts/setup-torch2.sh makes it); a missing one is skipped.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    backend: { type: 'string' },
    impl: { type: 'string' },
    'no-peers': { type: 'boolean', default: false },
    'no-plainjs': { type: 'boolean', default: false },
    warmup: { type: 'string' },
    iters: { type: 'string' },
    repeats: { type: 'string', default: '2' },
    tiny: { type: 'boolean', default: false },
    docs: { type: 'boolean' },
    'no-docs': { type: 'boolean', default: false },
    report: { type: 'string' },
    'quiet-wait': { type: 'string', default: '20' },
    'results-dir': { type: 'string' },
    'warmup-cap-s': { type: 'string', default: '5' },
    'timed-cap-s': { type: 'string', default: '30' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});

const RESULTS_DIR = values['results-dir'] ? resolve(values['results-dir']) : join(BENCH_DIR, 'results');

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}

/** A suite that runs longer than this is killed and reported as an error (a hung backend must not stall the run). */
const SUITE_TIMEOUT_MS = 20 * 60_000;

/**
 * Plain-JS baselines take ~2 s an iteration at 1024³ and are a reference line, not a
 * contender: one process each (the time caps bound their iterations).
 */
const PLAINJS_REPEATS = 1;

function implList(): string[] {
  if (values.impl) return values.impl.split(',').map((s) => s.trim());
  const backends = values.backend ? values.backend.split(',').map((s) => s.trim()) : [...NABLA_BACKENDS];
  const unknown = backends.filter((b) => !(NABLA_BACKENDS as readonly string[]).includes(b));
  if (unknown.length)
    throw new Error(`unknown Nabla backend ${unknown.join(', ')}; known: ${NABLA_BACKENDS.join(', ')}`);
  // each backend eager and compiled (the compiled variant runs W1, W4, W5 and W6)
  const out = backends.flatMap((b) => [`nabla-${b}`, `nabla-${b}-compiled`]);
  if (!values['no-peers']) {
    out.push('torch', 'torch2', 'tfjs-cpu', 'tfjs-wasm', 'jax-wasm');
    if (!values['no-plainjs']) out.push('plainjs-blocked', 'plainjs-unroll4', 'plainjs-ikj');
  }
  return out;
}

/** Why a PyTorch peer cannot run here, or null when `import torch, numpy` works. */
function torchUnavailable(impl: string): string | null {
  const { python, how } = TORCH_PYTHONS[impl];
  const r = spawnSync(python, ['-c', 'import torch, numpy'], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return `${python} not runnable (${r.error.message}); ${how}`;
  if (r.status !== 0)
    return `${python} -c 'import torch, numpy' failed: ${r.stderr.trim().split('\n').pop()}; ${how}`;
  return null;
}

/** Runs one suite in a child process and parses its result line. */
function runChild(
  impl: string,
  cases: CaseId[],
  loop: { warmup?: number; iters?: number },
): Promise<SuiteResult> {
  const args = ['--cases', cases.join(',')];
  if (loop.warmup !== undefined) args.push('--warmup', String(loop.warmup));
  if (loop.iters !== undefined) args.push('--iters', String(loop.iters));
  args.push('--warmup-cap-s', values['warmup-cap-s']!, '--timed-cap-s', values['timed-cap-s']!);
  if (values.tiny) args.push('--tiny');
  const [cmd, argv] = isTorch(impl)
    ? [TORCH_PYTHONS[impl].python, [join(BENCH_DIR, 'peers', 'torch_bench.py'), '--impl', impl, ...args]]
    : [process.execPath, ['--import', 'tsx', join(HERE, 'worker.ts'), '--impl', impl, ...args]];
  return new Promise((done) => {
    const child = spawn(cmd, argv, { cwd: BENCH_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), SUITE_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      if (line) return done(JSON.parse(line.slice(RESULT_MARKER.length + 1)) as SuiteResult);
      const how = signal ?? (code === 13 ? 'exit 13: a top-level await never settled' : `exit ${code}`);
      const why = `process ended (${how}) without a result: ${err.trim().split('\n').slice(-3).join(' | ')}`;
      done({ impl, cases: Object.fromEntries(cases.map((c) => [c, { error: why }])) });
    });
  });
}

function progress(r: SuiteResult, rep: number): void {
  if (r.skipped) {
    console.log(`  ${r.impl}: skipped: ${r.skipped}`);
    return;
  }
  for (const [id, o] of Object.entries(r.cases)) {
    if (!o) continue;
    const text =
      'samples_ms' in o
        ? `median ${o.stats.median_ms.toFixed(2)} ms (n=${o.stats.n}${o.capped ? ', time-capped' : ''}), other CPU ${o.other_cpu_pct?.toFixed(1) ?? 'n/a'}%${o.noisy ? ' NOISY' : ''}`
        : 'skipped' in o
          ? `skipped: ${o.skipped}`
          : `error: ${o.error}`;
    console.log(`  [rep ${rep}] ${r.impl} ${id}: ${text}`);
  }
}

function latestResult(): string {
  const dir = RESULTS_DIR;
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  if (!files.length) throw new Error(`no results in ${dir}; run the bench first`);
  return join(dir, files[files.length - 1]);
}

function writeDocs(run: RunFile, resultFile: string): void {
  const docs = join(REPO, 'docs');
  mkdirSync(docs, { recursive: true });
  writeFileSync(join(docs, 'benchmarks.svg'), svgChart(run));
  writeFileSync(
    join(docs, 'benchmarks.md'),
    markdownReport(run, relative(REPO, resultFile), 'benchmarks.svg'),
  );
  console.log(`wrote docs/benchmarks.md and docs/benchmarks.svg from ${relative(REPO, resultFile)}`);
}

/** The fields of `o` that are not undefined. */
function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

async function main(): Promise<void> {
  if (values.report) {
    const file = values.report === 'latest' ? latestResult() : resolve(values.report);
    const run = JSON.parse(readFileSync(file, 'utf8')) as RunFile;
    console.log(terminalTable(run));
    writeDocs(run, file);
    return;
  }
  const cases = selectCases(positionals);
  const impls = implList();
  const loop = {
    warmup: values.warmup === undefined ? undefined : Number(values.warmup),
    iters: values.iters === undefined ? undefined : Number(values.iters),
  };
  const repeats = Number(values.repeats);
  if (!((loop.iters ?? 1) >= 1 && repeats >= 1 && (loop.warmup ?? 0) >= 0))
    throw new Error('--iters and --repeats must be ≥ 1');
  const started = new Date();
  const records: Record<string, ImplRecord & { repeats: SuiteResult[] }> = {};
  const noTorch = Object.fromEntries(
    impls.filter(isTorch).map((impl) => [impl, torchUnavailable(impl)] as const),
  );
  console.log(
    `nabla bench: cases ${cases.join(' ')}; implementations ${impls.join(' ')}; ${repeats} repeats`,
  );
  for (let rep = 1; rep <= repeats; rep++) {
    for (const impl of impls) {
      const plain = impl.startsWith('plainjs-');
      if (plain && rep > PLAINJS_REPEATS && !values.tiny) continue;
      if (records[impl]?.skipped) continue; // unavailable: reported once, not retried
      let result: SuiteResult;
      if (isTorch(impl) && noTorch[impl]) {
        result = { impl, skipped: noTorch[impl], cases: {} };
      } else {
        const quiet = await waitForQuiet(Number(values['quiet-wait']) * 1000);
        if (quiet !== null && quiet > NOISY_PCT) {
          console.log(
            `  machine still busy before ${impl} (other CPU ${quiet.toFixed(0)}%); measuring anyway, loops will be flagged`,
          );
        }
        result = await runChild(impl, cases, loop);
      }
      progress(result, rep);
      const rec = records[impl] ?? { repeats: [] };
      records[impl] = {
        library: result.library ?? rec.library,
        info: result.info ?? rec.info,
        notes: result.notes ?? rec.notes,
        skipped: result.skipped,
        repeats: result.skipped ? [] : [...rec.repeats, result],
      };
    }
  }
  const run: RunFile = {
    schema: 'nabla-bench/1',
    spec_version: SPEC.spec_version,
    started_at: started.toISOString(),
    finished_at: new Date().toISOString(),
    argv: process.argv.slice(2),
    tiny: values.tiny,
    sizes: values.tiny ? TINY_SIZES : FULL_SIZES,
    loop: {
      warmup: loop.warmup ?? SPEC.timing.warmup,
      iters: loop.iters ?? SPEC.timing.iters,
      per_case: Object.fromEntries(cases.map((c) => [c, { ...specLoop(c), ...definedOnly(loop) }])),
      repeats,
      warmup_cap_s: Number(values['warmup-cap-s']),
      timed_cap_s: Number(values['timed-cap-s']),
    },
    machine: machineInfo(),
    impls: records,
    order: impls,
    cases,
  };
  const dir = RESULTS_DIR;
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${started.toISOString().replace(/[:.]/g, '-')}${values.tiny ? '-tiny' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(run, null, 1)}\n`);
  console.log('');
  console.log(terminalTable(run));
  console.log(`\nwrote ${relative(REPO, file)}`);
  const full =
    cases.length === CASE_IDS.length &&
    !values.tiny &&
    !values.impl &&
    !values.backend &&
    !values['no-peers'];
  if (values.docs ?? (full && !values['no-docs'])) writeDocs(run, file);
}

await main();
