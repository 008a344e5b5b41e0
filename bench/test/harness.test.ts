/**
 * Keeps the harness from rotting: statistics and report code on synthetic numbers, every
 * workload once at a tiny size on Nabla's cpu backend, the W1 losses of Nabla and the JS peers
 * agreeing step by step (same init, same data), and one tiny CLI run through child processes.
 * Timings are never asserted.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memory } from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { createImpl } from '../src/impl/index.js';
import { markLoad, otherCpuPct } from '../src/load.js';
import { cellOf, markdownReport, type RunFile, ratio, svgChart, terminalTable } from '../src/report.js';
import { CASE_IDS, type CaseId, metricOf, selectCases, TINY_SIZES } from '../src/spec.js';
import { quantile, summarize } from '../src/stats.js';
import { RESULT_MARKER, type SuiteResult } from '../src/suite.js';
import { timeLoop } from '../src/timing.js';

describe('statistics', () => {
  it('median, min, p90 and mean follow the linear-interpolation definition', () => {
    const s = summarize([5, 1, 4, 2, 3, 10, 6, 7, 9, 8]);
    expect(s.median_ms).toBeCloseTo(5.5);
    expect(s.min_ms).toBe(1);
    expect(s.p90_ms).toBeCloseTo(9.1);
    expect(s.mean_ms).toBeCloseTo(5.5);
    expect(s.n).toBe(10);
    expect(quantile([1, 2, 3], 0.5)).toBe(2);
    expect(() => summarize([])).toThrow(/no samples/);
  });

  it('metrics: samples/s for W1/W4, GFLOP/s for W3', () => {
    expect(metricOf('W1', 100).value).toBeCloseTo(2560);
    expect(metricOf('W4', 1000).value).toBeCloseTo(1024);
    expect(metricOf('W3_AtB', 1000).value).toBeCloseTo(2.147483648);
    expect(metricOf('W2a_2d', 12).kind).toBe('ms');
  });

  it('workload filters expand families and reject unknown names', () => {
    expect(selectCases(['W2'])).toEqual(['W2a_2d', 'W2b_3d', 'W2b_3d_channels_last']);
    expect(selectCases(['w1', 'W3_AtB'])).toEqual(['W1', 'W3_AtB']);
    expect(selectCases([])).toEqual([...CASE_IDS]);
    expect(() => selectCases(['W9'])).toThrow(/unknown workload W9/);
  });

  it('the timed loop runs warm-up + iterations and measures load', async () => {
    let calls = 0;
    const r = await timeLoop(
      async () => {
        calls++;
      },
      { warmup: 2, iters: 4 },
    );
    expect(calls).toBe(6);
    expect(r.samples_ms).toHaveLength(4);
    const pct = otherCpuPct(markLoad());
    if (pct !== null) expect(pct).toBeGreaterThanOrEqual(0);
  });
});

function suite(
  impl: string,
  medians: Partial<Record<CaseId, number[]>>,
  extra: Partial<SuiteResult> = {},
): SuiteResult {
  const cases: SuiteResult['cases'] = {};
  for (const [id, samples] of Object.entries(medians)) {
    cases[id as CaseId] = {
      samples_ms: samples!,
      stats: summarize(samples!),
      other_cpu_pct: 1,
      noisy: false,
      capped: false,
      own_cores: 1,
    };
  }
  return { impl, library: `${impl} 1.0`, info: {}, notes: {}, cases, ...extra };
}

function syntheticRun(): RunFile {
  return {
    schema: 'nabla-bench/1',
    spec_version: 1,
    started_at: '2026-01-01T00:00:00Z',
    finished_at: '2026-01-01T00:01:00Z',
    argv: [],
    tiny: false,
    sizes: {
      mlp: [784, 512, 256, 10],
      w1Batch: 256,
      w4Batch: 1024,
      w2a: [4096, 512],
      w2b: [64, 128, 256],
      w3: 1024,
      w5: { mlp: [32, 64, 64, 2], batch: 32 },
      w6: { mlp: [784, 128, 64, 10], batch: 64 },
    },
    loop: { warmup: 5, iters: 3, repeats: 2 },
    machine: { cpu: 'Test CPU', cores: 2, mhz: 2600, flags: 'avx2', mem_gib: 8, node: 'v20', os: 'linux' },
    order: ['nabla-cpu', 'nabla-webgpu', 'tfjs-cpu', 'torch'],
    cases: ['W1', 'W4'],
    impls: {
      'nabla-cpu': {
        repeats: [
          suite('nabla-cpu', { W1: [10, 10, 10], W4: [4, 4, 4] }),
          suite('nabla-cpu', { W1: [12, 12, 12], W4: [4, 4, 4] }),
        ],
      },
      'nabla-webgpu': { skipped: 'not built', repeats: [] },
      'tfjs-cpu': {
        notes: { W1: 'one-hot labels' },
        repeats: [
          suite('tfjs-cpu', { W1: [40, 40, 40] }, { cases: { W1: undefined, W4: { error: 'boom' } } }),
          suite('tfjs-cpu', { W1: [40, 40, 40] }),
        ],
      },
      torch: {
        repeats: [
          suite('torch', { W1: [5, 5, 5], W4: [2, 2, 2] }),
          suite('torch', { W1: [5, 5, 5], W4: [2, 2, 2] }),
        ],
      },
    },
  };
}

describe('report', () => {
  it('pools repeats, keeps per-process medians and computes peer/nabla ratios', () => {
    const run = syntheticRun();
    const c = cellOf(run, 'nabla-cpu', 'W1')!;
    expect('stats' in c && c.stats.median_ms).toBe(11);
    expect('repeat_medians' in c && c.repeat_medians).toEqual([10, 12]);
    expect(ratio(run, 'nabla-cpu', 'torch', 'W1')).toBeCloseTo(5 / 11);
    expect(ratio(run, 'nabla-cpu', 'tfjs-cpu', 'W1')).toBeCloseTo(40 / 11);
    expect(ratio(run, 'nabla-webgpu', 'torch', 'W1')).toBeNull();
    expect(cellOf(run, 'tfjs-cpu', 'W4')).toEqual({ error: 'boom' });
  });

  it('the faster PyTorch is chosen per case, and counted calls reach the table and docs', () => {
    const run = syntheticRun();
    const withTorch2: RunFile = {
      ...run,
      order: [...run.order, 'torch2'],
      impls: {
        ...run.impls,
        torch2: { repeats: [suite('torch2', { W1: [8, 8, 8], W4: [1, 1, 1] })] },
      },
    };
    (withTorch2.impls['nabla-cpu'].repeats[0].cases.W1 as { counters?: unknown }).counters = {
      calls: 131,
      kernels: 61,
      allocs: 35,
      frees: 35,
      by_method: {},
    };
    expect(ratio(withTorch2, 'nabla-cpu', 'faster-torch', 'W1')).toBeCloseTo(5 / 11);
    expect(ratio(withTorch2, 'nabla-cpu', 'faster-torch', 'W4')).toBeCloseTo(1 / 4);
    expect(terminalTable(withTorch2)).toContain('calls 131 · kernels 61 · allocs 35 · frees 35');
    const md = markdownReport(withTorch2, 'x.json', 'x.svg');
    expect(md).toContain('| W1 | nabla-cpu | 131 | 61 | 35 | 35 | - | - |');
    expect(md).toContain('faster-torch');
  });

  it('table, markdown and SVG name every implementation, skip and deviation', () => {
    const run = syntheticRun();
    const table = terminalTable(run);
    expect(table).toContain('nabla-webgpu: skipped: not built');
    expect(table).toContain('error: boom');
    expect(table).toContain('3.64x');
    const md = markdownReport(run, 'bench/results/x.json', 'benchmarks.svg');
    expect(md).toContain('Test CPU, 2 cores');
    expect(md).toContain('| W1 | 3.64× | 0.45× |');
    expect(md).toContain('tfjs-cpu W1: one-hot labels');
    const svg = svgChart(run);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    // W1: three implementations ran; W4: two (tfjs-cpu errored)
    expect(svg.match(/<rect x=/g)).toHaveLength(5);
  });
});

/** Runs `steps` steps of a case in-process and returns what the last one read back. */
const impls = new Map<string, ReturnType<typeof createImpl>>();
async function probe(implId: string, id: CaseId, steps: number): Promise<number[]> {
  if (!impls.has(implId)) impls.set(implId, createImpl(implId));
  const impl = await impls.get(implId)!;
  const prepared = await impl.prepare(id, TINY_SIZES);
  try {
    for (let i = 0; i < steps; i++) await prepared.step();
    return Array.from(prepared.probe());
  } finally {
    prepared.dispose?.();
  }
}

/** The PyTorch peers' interpreters, as the CLI finds them (see bench/README.md). */
const TORCH_PYTHONS: Record<string, string> = {
  torch: process.env.NABLA_BENCH_TORCH_PYTHON ?? '/usr/bin/python3',
  torch2: process.env.NABLA_BENCH_TORCH2_PYTHON ?? join(__dirname, '../.venv-torch2/bin/python'),
};

/** A PyTorch peer's probes for every case, or null when its python cannot `import torch` here. */
function torchProbes(impl: string, cases: CaseId[], steps: number): Record<string, number[]> | null {
  const python = TORCH_PYTHONS[impl];
  try {
    execFileSync(python, ['-c', 'import torch, numpy'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const out = execFileSync(
    python,
    [
      join(__dirname, '../peers/torch_bench.py'),
      '--impl',
      impl,
      '--tiny',
      '--probe',
      String(steps),
      '--cases',
      cases.join(','),
    ],
    { encoding: 'utf8' },
  );
  const line = out.split('\n').find((l) => l.startsWith(RESULT_MARKER))!;
  const r = JSON.parse(line.slice(RESULT_MARKER.length + 1)) as {
    cases: Record<string, { probe: number[] }>;
  };
  return Object.fromEntries(Object.entries(r.cases).map(([k, v]) => [k, v.probe]));
}

function expectClose(got: number[], want: number[], what: string): void {
  expect(got.length, what).toBe(want.length);
  const scale = Math.max(1, ...want.map(Math.abs));
  const worst = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
  expect(worst / scale, `${what}: largest difference ${worst}`).toBeLessThan(2e-5);
}

describe('workloads at tiny size', () => {
  const nablaCases = CASE_IDS.filter((c) => c !== 'W2b_3d_channels_last');
  it.each(nablaCases)('nabla-cpu runs %s, leaking nothing per step or after dispose', async (id) => {
    const before = memory().tensors;
    const impl = await createImpl('nabla-cpu');
    const prepared = await impl.prepare(id, TINY_SIZES);
    const live: number[] = [];
    for (let i = 0; i < 3; i++) {
      await prepared.step();
      live.push(memory().tensors);
    }
    expect(Array.from(prepared.probe()).every(Number.isFinite)).toBe(true);
    prepared.dispose?.();
    expect(live[2]).toBe(live[0]);
    expect(memory().tensors).toBe(before);
  });

  it('every implementation computes the same numbers as nabla-cpu (same init, same data, 3 steps)', async () => {
    const steps = 3;
    const cases: CaseId[] = ['W1', 'W2a_2d', 'W2b_3d', 'W3_AB', 'W3_AtB', 'W3_ABt', 'W4', 'W5', 'W6'];
    const torch = Object.keys(TORCH_PYTHONS).map((impl) => [impl, torchProbes(impl, cases, steps)] as const);
    for (const id of cases) {
      const want = await probe('nabla-cpu', id, steps);
      const peers = ['tfjs-cpu', 'jax-wasm', ...(id === 'W3_AB' ? ['plainjs-ikj', 'plainjs-unroll4'] : [])];
      for (const peer of peers) expectClose(await probe(peer, id, steps), want, `${peer} ${id}`);
      for (const [impl, probes] of torch) if (probes) expectClose(probes[id], want, `${impl} ${id}`);
    }
    // the channels-last variant sees the same values laid out N,L,C: same dγ
    expectClose(
      await probe('tfjs-cpu', 'W2b_3d_channels_last', steps),
      await probe('nabla-cpu', 'W2b_3d', steps),
      'tfjs channels-last',
    );
    // the steps really change state: the loss moves from step 1 to step 3 (SGD and Adam)
    for (const id of ['W1', 'W5', 'W6'] as const)
      expect((await probe('nabla-cpu', id, 1))[0]).not.toBeCloseTo((await probe('nabla-cpu', id, 3))[0], 5);
  });

  it('the CLI runs suites in child processes and writes a results file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'nabla-bench-'));
    const out = execFileSync(
      process.execPath,
      [
        '--import',
        'tsx',
        join(__dirname, '../src/cli.ts'),
        'W3_AB',
        'W1',
        '--tiny',
        '--impl',
        'nabla-cpu,plainjs-ikj',
        '--iters',
        '2',
        '--warmup',
        '0',
        '--repeats',
        '2',
        '--quiet-wait',
        '0',
        '--no-docs',
        '--results-dir',
        dir,
      ],
      { cwd: join(__dirname, '..'), encoding: 'utf8' },
    );
    expect(out).toContain('speed ratio nabla-cpu/peer');
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    const run = JSON.parse(readFileSync(join(dir, files[0]), 'utf8')) as RunFile;
    expect(run.impls['nabla-cpu'].repeats).toHaveLength(2);
    expect(run.impls['plainjs-ikj'].repeats[0].cases.W3_AB).toHaveProperty('samples_ms');
    expect(run.impls['plainjs-ikj'].repeats[0].cases.W1).toBeUndefined();
    // Nabla's steps are counted: calls, kernels, allocations and frees per step
    const w1 = run.impls['nabla-cpu'].repeats[0].cases.W1 as { counters?: Record<string, number> };
    expect(w1.counters?.calls).toBeGreaterThan(w1.counters?.kernels ?? Infinity);
    expect(w1.counters?.allocs).toBe(w1.counters?.frees);
    expect(out).toContain('device calls per Nabla step');
  });
});
