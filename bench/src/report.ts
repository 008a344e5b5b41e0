/**
 * Turns the per-process suite results of one run into the summary, the terminal table,
 * `docs/benchmarks.md` and the SVG chart. Pure functions of the run file, so the unit test
 * can feed synthetic numbers.
 */
import { isNabla, isTorch } from './impl/index.js';
import type { StepCounters } from './impl/types.js';
import type { MachineInfo } from './machine.js';
import { CASE_IDS, type CaseId, metricOf, type Sizes } from './spec.js';
import { type Stats, summarize } from './stats.js';
import type { CaseOutcome, SuiteResult } from './suite.js';
import type { CaseResult } from './timing.js';

/** One implementation's results across repeats. */
export interface ImplRecord {
  readonly library?: string;
  readonly info?: Record<string, string | number | boolean>;
  readonly notes?: Record<string, string>;
  readonly skipped?: string;
  /** One suite per repeat (each a separate process), in run order. */
  readonly repeats: SuiteResult[];
}

/** A whole run as written to `bench/results/*.json`. */
export interface RunFile {
  readonly schema: 'nabla-bench/1';
  readonly spec_version: number;
  readonly started_at: string;
  readonly finished_at: string;
  readonly argv: string[];
  readonly tiny: boolean;
  readonly sizes: Sizes;
  readonly loop: {
    /** The spec's global loop (or the command line's override). */
    warmup: number;
    iters: number;
    /** The loop each case actually ran (W5, W6: 20 warm-up, 200 timed, unless overridden). */
    per_case?: Partial<Record<CaseId, { warmup: number; iters: number }>>;
    repeats: number;
    warmup_cap_s?: number;
    timed_cap_s?: number;
  };
  readonly machine: MachineInfo;
  readonly impls: Record<string, ImplRecord>;
  /** Implementation ids in run order. */
  readonly order: string[];
  readonly cases: CaseId[];
}

/** One cell of the summary: pooled statistics over all repeats. */
export type Cell =
  | {
      readonly stats: Stats;
      /** Median of each repeat (each a separate process). */
      readonly repeat_medians: number[];
      readonly other_cpu_pct_max: number | null;
      readonly noisy: boolean;
      readonly own_cores: number;
      /** True when a time cap left fewer than the requested iterations in some repeat. */
      readonly capped: boolean;
      readonly metric: { kind: string; value: number };
      /** Device calls per step (Nabla), from the first repeat that counted them. */
      readonly counters?: StepCounters;
    }
  | { readonly skipped: string }
  | { readonly error: string };

function isResult(o: CaseOutcome | undefined): o is CaseResult {
  return o !== undefined && 'samples_ms' in o;
}

/** Pools a case's samples over repeats; a skip or error is carried through with its reason. */
export function cellOf(run: RunFile, impl: string, id: CaseId): Cell | null {
  const rec = run.impls[impl];
  if (!rec) return null;
  if (rec.skipped) return { skipped: rec.skipped };
  return pooled(rec, id, run.sizes);
}

function pooled(rec: ImplRecord, id: CaseId, sizes: Sizes): Cell | null {
  const outs = rec.repeats.map((r) => r.cases[id]);
  const done = outs.filter(isResult);
  if (done.length === 0) {
    const first = outs.find((o) => o !== undefined);
    if (!first) return null;
    return 'skipped' in first ? { skipped: first.skipped } : { error: (first as { error: string }).error };
  }
  const stats = summarize(done.flatMap((d) => d.samples_ms));
  const pcts = done.map((d) => d.other_cpu_pct).filter((p): p is number => p !== null);
  return {
    stats,
    repeat_medians: done.map((d) => d.stats.median_ms),
    other_cpu_pct_max: pcts.length ? Math.max(...pcts) : null,
    noisy: done.some((d) => d.noisy),
    own_cores: done.reduce((s, d) => s + d.own_cores, 0) / done.length,
    capped: done.some((d) => d.capped),
    metric: metricOf(id, stats.median_ms, sizes),
    counters: done.find((d) => d.counters)?.counters,
  };
}

/**
 * The pseudo-peer "the faster PyTorch": per case, whichever PyTorch build (1.13 from Debian,
 * 2.x from the CPU wheel) has the lower median. The builds differ by up to 4× per workload, so
 * targets are set against this one.
 */
export const FASTER_TORCH = 'faster-torch';

/** The PyTorch peer with the lower median on `id`, or null when none ran. */
export function fasterTorch(run: RunFile, id: CaseId): string | null {
  let best: string | null = null;
  let bestMs = Number.POSITIVE_INFINITY;
  for (const impl of run.order.filter(isTorch)) {
    const c = cellOf(run, impl, id);
    if (c && 'stats' in c && c.stats.median_ms < bestMs) {
      best = impl;
      bestMs = c.stats.median_ms;
    }
  }
  return best;
}

/**
 * Speed ratio Nabla/peer for one case: peer median time ÷ Nabla median time, i.e. Nabla's
 * throughput over the peer's (> 1: Nabla is faster). Null when either did not run.
 */
export function ratio(run: RunFile, nabla: string, peer: string, id: CaseId): number | null {
  if (peer === FASTER_TORCH) {
    const best = fasterTorch(run, id);
    return best === null ? null : ratio(run, nabla, best, id);
  }
  // Nabla is channels-first: its W2b_3d is the same computation as a peer's channels-last variant
  const a = cellOf(run, nabla, id === 'W2b_3d_channels_last' ? 'W2b_3d' : id);
  const b = cellOf(run, peer, id);
  if (!a || !b || !('stats' in a) || !('stats' in b)) return null;
  return b.stats.median_ms / a.stats.median_ms;
}

/** Geometric mean of the ratios over the cases where both ran (null when none did). */
export function geomeanRatio(run: RunFile, nabla: string, peer: string): number | null {
  const rs = run.cases.map((id) => ratio(run, nabla, peer, id)).filter((r): r is number => r !== null);
  return rs.length ? Math.exp(rs.reduce((s, r) => s + Math.log(r), 0) / rs.length) : null;
}

/**
 * Implementations in the run that are Nabla's, and the peers (plus {@link FASTER_TORCH} when a
 * PyTorch peer ran).
 */
export function split(run: RunFile): { nabla: string[]; peers: string[] } {
  const peers = run.order.filter((i) => !isNabla(i));
  const torchRan = peers.some((p) => isTorch(p) && run.impls[p] && !run.impls[p].skipped);
  return { nabla: run.order.filter(isNabla), peers: torchRan ? [...peers, FASTER_TORCH] : peers };
}

/** `calls 131 · kernels 61 · allocs 35 · frees 35 · dispatches 60 · submits 1` (per step). */
export function countersText(c: StepCounters): string {
  const parts = [
    `calls ${fmt(c.calls)}`,
    `kernels ${fmt(c.kernels)}`,
    `allocs ${fmt(c.allocs)}`,
    `frees ${fmt(c.frees)}`,
  ];
  if (c.dispatches !== undefined) parts.push(`dispatches ${fmt(c.dispatches)}`);
  if (c.submits !== undefined) parts.push(`submits ${fmt(c.submits)}`);
  if (c.bind_groups !== undefined) parts.push(`bind groups ${fmt(c.bind_groups)}`);
  return parts.join(' · ');
}

/** Lines of per-step device calls of every Nabla cell that counted them. */
export function counterLines(run: RunFile): { impl: string; id: CaseId; text: string }[] {
  const out: { impl: string; id: CaseId; text: string }[] = [];
  for (const id of run.cases) {
    for (const impl of run.order.filter(isNabla)) {
      const c = cellOf(run, impl, id);
      if (c && 'stats' in c && c.counters) out.push({ impl, id, text: countersText(c.counters) });
    }
  }
  return out;
}

const fmt = (x: number, digits = 3) =>
  x >= 1000 ? Math.round(x).toLocaleString('en-US') : Number(x.toPrecision(digits)).toString();

/** `1,234 samples/s`, `87.1 GFLOP/s` or `12.3 ms`. */
export function metricText(cell: Cell): string {
  if (!('stats' in cell)) return '';
  const { kind, value } = cell.metric;
  if (kind === 'samples_per_s') return `${fmt(value)} samples/s`;
  if (kind === 'gflops') return `${fmt(value)} GFLOP/s`;
  return '';
}

function cellReason(cell: Cell): string {
  return 'skipped' in cell ? `skipped: ${cell.skipped}` : 'error' in cell ? `error: ${cell.error}` : '';
}

function pad(s: string, n: number, right = false): string {
  return right ? s.padStart(n) : s.padEnd(n);
}

/** The terminal table: one block per case, one line per implementation, then the ratios. */
export function terminalTable(run: RunFile): string {
  const lines: string[] = [];
  const w = Math.max(...run.order.map((i) => i.length), 10);
  lines.push(
    `${pad('case', 22)}${pad('impl', w + 2)}${pad('median', 10, true)}${pad('min', 10, true)}${pad('p90', 10, true)}  ${pad('throughput', 22)}${pad('other%', 7, true)}${pad('cores', 6, true)}  repeat medians`,
  );
  for (const id of run.cases) {
    for (const impl of run.order) {
      const cell = cellOf(run, impl, id);
      if (!cell || run.impls[impl].skipped) continue;
      if (!('stats' in cell)) {
        lines.push(`${pad(id, 22)}${pad(impl, w + 2)}${cellReason(cell)}`);
        continue;
      }
      const s = cell.stats;
      const other = cell.other_cpu_pct_max === null ? 'n/a' : cell.other_cpu_pct_max.toFixed(1);
      lines.push(
        `${pad(id, 22)}${pad(impl, w + 2)}${pad(`${fmt(s.median_ms)} ms`, 10, true)}${pad(fmt(s.min_ms), 10, true)}${pad(fmt(s.p90_ms), 10, true)}  ${pad(metricText(cell), 22)}${pad(other, 7, true)}${pad(cell.own_cores.toFixed(2), 6, true)}  ${cell.repeat_medians.map((m) => fmt(m)).join(' / ')}${cell.capped ? `  (n=${s.n}, time-capped)` : ''}${cell.noisy ? '  NOISY (>5% other CPU)' : ''}`,
      );
    }
    lines.push('');
  }
  const counted = counterLines(run);
  if (counted.length) {
    lines.push('device calls per Nabla step (counted by a wrapper around the backend, after the timed loop)');
    for (const c of counted) lines.push(`${pad(c.id, 22)}${pad(c.impl, w + 2)}${c.text}`);
    lines.push('');
  }
  const { nabla, peers } = split(run);
  for (const n of peers.length ? nabla : []) {
    if (run.impls[n]?.skipped) continue;
    lines.push(`speed ratio ${n}/peer (peer median ÷ ${n} median; > 1 means Nabla is faster)`);
    lines.push(`${pad('case', 22)}${peers.map((p) => pad(p, Math.max(p.length, 8) + 2, true)).join('')}`);
    for (const id of run.cases) {
      const row = peers.map((p) => {
        const r = ratio(run, n, p, id);
        return pad(r === null ? '-' : `${r.toFixed(2)}x`, Math.max(p.length, 8) + 2, true);
      });
      lines.push(`${pad(id, 22)}${row.join('')}`);
    }
    const geo = peers.map((p) => {
      const r = geomeanRatio(run, n, p);
      return pad(r === null ? '-' : `${r.toFixed(2)}x`, Math.max(p.length, 8) + 2, true);
    });
    lines.push(`${pad('geometric mean', 22)}${geo.join('')}`);
    lines.push('');
  }
  lines.push(...notesLines(run).map((l) => `note: ${l}`));
  return lines.join('\n');
}

/** Long library error messages are cut at their first sentence; the JSON keeps them whole. */
export function firstSentence(s: string): string {
  const i = s.search(/\.\s/);
  return i > 0 ? s.slice(0, i + 1) : s;
}

/** Every deviation or skip, one line each, for the terminal and the docs. */
export function notesLines(run: RunFile): string[] {
  const out: string[] = [];
  for (const impl of run.order) {
    const rec = run.impls[impl];
    if (rec.skipped) {
      out.push(`${impl}: skipped: ${firstSentence(rec.skipped)}`);
      continue;
    }
    for (const [k, v] of Object.entries(rec.notes ?? {}))
      if (k === '*' || (run.cases as string[]).includes(k))
        out.push(`${impl} ${k === '*' ? '(all)' : k}: ${v}`);
  }
  return out;
}

/** Escapes the characters markdown tables care about. */
function md(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** `5 warm-up then 30 timed iterations (W5, W6: 20 then 200)`. */
function loopText(run: RunFile): string {
  const base = `${run.loop.warmup} warm-up then ${run.loop.iters} timed iterations`;
  const other = new Map<string, CaseId[]>();
  for (const [id, l] of Object.entries(run.loop.per_case ?? {}) as [
    CaseId,
    { warmup: number; iters: number },
  ][]) {
    if (l.warmup === run.loop.warmup && l.iters === run.loop.iters) continue;
    const key = `${l.warmup} then ${l.iters}`;
    other.set(key, [...(other.get(key) ?? []), id]);
  }
  const extra = [...other.entries()].map(([k, ids]) => `${ids.join(', ')}: ${k}`);
  return extra.length ? `${base} (${extra.join('; ')})` : base;
}

/** `docs/benchmarks.md`, regenerated from one run. */
export function markdownReport(run: RunFile, resultPath: string, svgName: string): string {
  const m = run.machine;
  const out: string[] = [];
  out.push('# Benchmarks');
  out.push('');
  out.push(
    `Generated by \`npm run bench\` from \`${resultPath}\` (${run.finished_at}). Do not edit by hand: re-run the bench. Workloads: \`bench/workloads.json\` (spec v${run.spec_version}); ${loopText(run)} per process, ${run.loop.repeats} process${run.loop.repeats === 1 ? '' : 'es'} per implementation (plain-JS baselines: one), interleaved (A B C … A B C …). Times are the median over the timed iterations of all processes pooled; the per-process medians are listed too.`,
  );
  out.push('');
  out.push(
    'Reproduce with `npm run bench` (all) or a subset, e.g. `npm run bench -- W1 --backend wasm`; `bench/README.md` lists the options.',
  );
  out.push('');
  out.push('## Machine');
  out.push('');
  out.push(
    `- CPU: ${m.cpu}, ${m.cores} cores${m.mhz ? ` (${Math.round(m.mhz)} MHz nominal)` : ''}; SIMD: ${m.flags || 'n/a'}`,
  );
  out.push(`- Memory: ${m.mem_gib} GiB; OS: ${m.os}; Node ${m.node}`);
  const blas = Object.entries(run.impls).find(([, r]) => r.info?.blas);
  if (blas) out.push(`- BLAS used by ${blas[0]}: ${blas[1].info!.blas_info} (${blas[1].info!.blas})`);
  out.push('');
  out.push('## Implementations');
  out.push('');
  out.push('| id | library | facts |');
  out.push('|---|---|---|');
  for (const impl of run.order) {
    const r = run.impls[impl];
    const facts = r.skipped
      ? `skipped: ${firstSentence(r.skipped)}`
      : Object.entries(r.info ?? {})
          .filter(([k]) => k !== 'blas')
          .map(([k, v]) => `${k}=${v}`)
          .join(', ');
    out.push(`| ${impl} | ${md(r.library ?? '-')} | ${md(facts)} |`);
  }
  out.push('');
  out.push('## Results');
  out.push('');
  const loops = Object.values(run.impls).flatMap((r) =>
    r.repeats.flatMap((rep) => Object.values(rep.cases).filter((o): o is CaseResult => isResult(o))),
  );
  const noisy = loops.filter((l) => l.noisy).length;
  if (noisy > 0) {
    out.push(
      `**${noisy} of ${loops.length} timed loops ran while other processes used over 5% of the CPU** (flagged ⚠): their numbers, and ratios built on them, are suspect; re-run on a quiet machine before quoting them.`,
    );
    out.push('');
  }
  out.push(`![samples/s per implementation, W1, W4, W5 and W6](${svgName})`);
  out.push('');
  out.push(
    `\`other CPU %\` is the CPU time other processes used during the timed loop, as % of wall × cores; loops above 5% are flagged ⚠ and their numbers are suspect. \`cores\` is the CPU time of the measured process over wall time. \`n\` is the number of timed iterations pooled over the processes; ⏱ marks implementations so slow (seconds per iteration) that a time cap (warm-up ${run.loop.warmup_cap_s ?? 0} s, timing ${run.loop.timed_cap_s ?? 0} s per process, at least 5 iterations) cut the loop below the requested iterations.`,
  );
  for (const id of run.cases) {
    out.push('');
    out.push(`### ${id}`);
    out.push('');
    out.push(
      '| implementation | median ms | min ms | p90 ms | throughput | per-process medians | n | other CPU % | cores |',
    );
    out.push('|---|---:|---:|---:|---:|---|---:|---:|---:|');
    for (const impl of run.order) {
      const c = cellOf(run, impl, id);
      if (!c || run.impls[impl].skipped) continue;
      if (!('stats' in c)) {
        out.push(`| ${impl} | ${md(cellReason(c))} | | | | | | | |`);
        continue;
      }
      const other = c.other_cpu_pct_max === null ? 'n/a' : c.other_cpu_pct_max.toFixed(1);
      out.push(
        `| ${impl} | ${fmt(c.stats.median_ms)} | ${fmt(c.stats.min_ms)} | ${fmt(c.stats.p90_ms)} | ${metricText(c) || '-'} | ${c.repeat_medians.map((x) => fmt(x)).join(' / ')} | ${c.stats.n}${c.capped ? ' ⏱' : ''} | ${other}${c.noisy ? ' ⚠' : ''} | ${c.own_cores.toFixed(2)} |`,
      );
    }
  }
  const counted = counterLines(run);
  if (counted.length) {
    out.push('');
    out.push('## Device calls per Nabla step');
    out.push('');
    out.push(
      'Counted by `countBackendCalls` (a wrapper around the backend: every call, not an estimate) over a few steps after the timed loop, per step. `calls` is every call into the backend; `kernels` the calls that run a kernel; `allocs`/`frees` device buffers created and returned; `dispatches`/`submits`/`bind groups` (WebGPU) compute dispatches, queue submits and bind groups created.',
    );
    out.push('');
    out.push(
      '| case | implementation | calls | kernels | allocs | frees | dispatches | submits | bind groups |',
    );
    out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const { impl, id } of counted) {
      const c = (cellOf(run, impl, id) as { counters: StepCounters }).counters;
      out.push(
        `| ${id} | ${impl} | ${fmt(c.calls)} | ${fmt(c.kernels)} | ${fmt(c.allocs)} | ${fmt(c.frees)} | ${c.dispatches === undefined ? '-' : fmt(c.dispatches)} | ${c.submits === undefined ? '-' : fmt(c.submits)} | ${c.bind_groups === undefined ? '-' : fmt(c.bind_groups)} |`,
      );
    }
  }
  const { nabla, peers } = split(run);
  out.push('');
  out.push('## Ratios Nabla/peer');
  out.push('');
  out.push(
    `Peer median time ÷ Nabla median time, i.e. Nabla throughput over peer throughput: above 1 Nabla is faster.${peers.includes(FASTER_TORCH) ? ` \`${FASTER_TORCH}\` is, per case, whichever PyTorch build ran faster (the builds differ by up to 4× per workload; targets are set against it).` : ''}`,
  );
  for (const n of nabla) {
    out.push('');
    if (run.impls[n]?.skipped) {
      out.push(`**${n}**: skipped: ${md(firstSentence(run.impls[n].skipped!))}`);
      continue;
    }
    out.push(`**${n}**`);
    out.push('');
    out.push(`| case | ${peers.join(' | ')} |`);
    out.push(`|---|${peers.map(() => '---:').join('|')}|`);
    for (const id of run.cases) {
      const row = peers.map((p) => {
        const r = ratio(run, n, p, id);
        return r === null ? '-' : `${r.toFixed(2)}×`;
      });
      out.push(
        `| ${id === 'W2b_3d_channels_last' ? `${id} (vs Nabla's W2b_3d)` : id} | ${row.join(' | ')} |`,
      );
    }
    const geo = peers.map((p) => {
      const r = geomeanRatio(run, n, p);
      return r === null ? '-' : `**${r.toFixed(2)}×**`;
    });
    out.push(`| geometric mean | ${geo.join(' | ')} |`);
  }
  out.push('');
  out.push('## Where implementations differ from the spec');
  out.push('');
  for (const l of notesLines(run)) out.push(`- ${md(l)}`);
  out.push('');
  return out.join('\n');
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A hand-written SVG: one horizontal bar chart per throughput case (W1, W4, W5, W6), one bar per
 * implementation that ran, linear scale, value printed at the end of each bar; Nabla's bars in
 * one colour, peers in another.
 */
export function svgChart(run: RunFile, cases: CaseId[] = ['W1', 'W4', 'W5', 'W6']): string {
  const panels = cases
    .map((id) => ({
      id,
      bars: run.order
        .map((impl) => ({ impl, cell: cellOf(run, impl, id) }))
        .filter(
          (b): b is { impl: string; cell: Extract<Cell, { stats: Stats }> } => !!b.cell && 'stats' in b.cell,
        ),
    }))
    .filter((p) => p.bars.length > 0);
  const labelW = 130;
  const barW = 300;
  const valueW = 120;
  const rowH = 22;
  const panelW = labelW + barW + valueW;
  const titleH = 48;
  const rows = Math.max(1, ...panels.map((p) => p.bars.length));
  const height = titleH + rows * rowH + 30;
  const width = Math.max(1, panels.length) * (panelW + 20) + 20;
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
  );
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  panels.forEach((p, k) => {
    const x0 = 20 + k * (panelW + 20);
    const max = Math.max(...p.bars.map((b) => b.cell.metric.value));
    const title =
      p.id === 'W1'
        ? 'W1 MLP training step (batch 256)'
        : p.id === 'W4'
          ? 'W4 MLP inference (batch 1024)'
          : p.id === 'W5'
            ? 'W5 tabular training step (batch 32)'
            : p.id === 'W6'
              ? 'W6 MNIST-sized MLP step (batch 64)'
              : p.id;
    parts.push(`<text x="${x0}" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`);
    parts.push(
      `<text x="${x0}" y="36" fill="#555">samples/s, higher is better (median of ${run.loop.repeats}×${run.loop.iters} iterations)</text>`,
    );
    p.bars.forEach((b, i) => {
      const y = titleH + i * rowH;
      const w = max > 0 ? Math.max(1, (b.cell.metric.value / max) * barW) : 1;
      const colour = isNabla(b.impl) ? '#d9480f' : '#1c7ed6';
      parts.push(`<text x="${x0 + labelW - 6}" y="${y + 15}" text-anchor="end">${esc(b.impl)}</text>`);
      parts.push(
        `<rect x="${x0 + labelW}" y="${y + 3}" width="${w.toFixed(1)}" height="${rowH - 6}" fill="${colour}"/>`,
      );
      parts.push(
        `<text x="${(x0 + labelW + w + 6).toFixed(1)}" y="${y + 15}">${esc(fmt(b.cell.metric.value))}${b.cell.noisy ? ' ⚠' : ''}</text>`,
      );
    });
  });
  parts.push(
    `<text x="20" y="${height - 10}" fill="#555">orange: Nabla backends · blue: peers · ⚠: other processes used over 5% of the CPU during the loop</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Case ids in spec order, restricted to those in the run. */
export function orderedCases(ids: readonly string[]): CaseId[] {
  return CASE_IDS.filter((c) => ids.includes(c));
}
