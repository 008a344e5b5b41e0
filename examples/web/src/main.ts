/**
 * The playground page: wires the controls to a {@link Trainer}, draws progress, saves and
 * loads weights as safetensors, and exposes its state on `window.__nabla` (and
 * `body[data-status]`) so the end-to-end test can drive it through URL parameters:
 * `?dataset=spirals&backend=wasm&epochs=20&lr=0.02&batch=64&bn=1&compiled=1&autotrain=1`, or `?selftest=1`.
 */
import { initBackend, setBackend } from '@nabla/core';
// `nabla` registers every backend it knows from the backend packages' manifests; each package is
// loaded (its own chunk) when the page first starts that backend.
import 'nabla';
import { decodeSafetensors, load, save } from '@nabla/interop';
import { backendNames } from 'nabla/backends';
import { TrainingCharts } from './charts.js';
import { type Dataset, loadDigits, makeSpirals, type Split, split } from './data.js';
import { clearCanvas, drawBoundary, drawDigits, gridCells } from './draw.js';
import { type SelfTestCase, selfTest } from './selftest.js';
import { type EpochStats, predict, type TrainConfig, Trainer } from './trainer.js';

const BACKENDS = backendNames;
const GRID = 64;
const EXTENT = 1.25;
const DIGIT_SAMPLES = 24;
const DIGIT_COLUMNS = 6;

/** What a backend reported when the page tried to start it. */
interface BackendStatus {
  ok: boolean;
  reason: string;
  info: Record<string, string | number | boolean>;
}

/** Everything the test (or a curious user in the console) can read. */
interface PageState {
  status: 'loading' | 'ready' | 'training' | 'done' | 'stopped' | 'error' | 'selftest-done';
  backends: Record<string, BackendStatus>;
  crossOriginIsolated: boolean;
  config: TrainConfig | null;
  dataset: string;
  history: EpochStats[];
  result: {
    backend: string;
    testAccuracy: number;
    trainAccuracy: number;
    samplesPerSec: number;
    epochs: number;
    /** Longest the page went without running a 20 ms timer while training (responsiveness). */
    maxStallMs: number;
  } | null;
  /** Test-set predictions at the moment the weights were saved. */
  saved: { predictions: number[]; bytes: number } | null;
  /** After a load: accuracy and whether predictions equal those at save time. */
  loaded: { testAccuracy: number; identicalToSaved: boolean | null; mismatches: number } | null;
  selftest: SelfTestCase[] | null;
  error: string | null;
}

const state: PageState = {
  status: 'loading',
  backends: {},
  crossOriginIsolated: globalThis.crossOriginIsolated === true,
  config: null,
  dataset: 'spirals',
  history: [],
  result: null,
  saved: null,
  loaded: null,
  selftest: null,
  error: null,
};
(window as unknown as { __nabla: PageState }).__nabla = state;

function $<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page element #${id} is missing`);
  return el as T;
}

const ui = {
  dataset: $<HTMLSelectElement>('dataset'),
  backends: $<HTMLFieldSetElement>('backends'),
  bn: $<HTMLInputElement>('bn'),
  compiled: $<HTMLInputElement>('compiled'),
  lr: $<HTMLInputElement>('lr'),
  batch: $<HTMLInputElement>('batch'),
  epochs: $<HTMLInputElement>('epochs'),
  train: $<HTMLButtonElement>('train'),
  stop: $<HTMLButtonElement>('stop'),
  reset: $<HTMLButtonElement>('reset'),
  save: $<HTMLButtonElement>('save'),
  load: $<HTMLInputElement>('load'),
  threads: $<HTMLParagraphElement>('threads'),
  status: $<HTMLParagraphElement>('status'),
  backendName: $<HTMLElement>('backend-name'),
  backendDetail: $<HTMLElement>('backend-detail'),
  stat: {
    epoch: $<HTMLElement>('stat-epoch'),
    loss: $<HTMLElement>('stat-loss'),
    train: $<HTMLElement>('stat-train'),
    test: $<HTMLElement>('stat-test'),
    speed: $<HTMLElement>('stat-speed'),
  },
  boundary: $<HTMLCanvasElement>('boundary'),
  boundaryFig: $<HTMLElement>('boundary-fig'),
  digits: $<HTMLCanvasElement>('digits'),
  digitsFig: $<HTMLElement>('digits-fig'),
  selftest: $<HTMLPreElement>('selftest'),
};

const charts = new TrainingCharts($('loss-chart'), $('accuracy-chart'));

function setStatus(status: PageState['status'], text: string): void {
  state.status = status;
  document.body.dataset.status = status;
  ui.status.textContent = text;
  ui.status.classList.toggle('error', status === 'error');
}

function fail(err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  state.error = message;
  setStatus('error', `Error: ${message}`);
  console.error(err);
}

function selectedBackend(): string {
  const checked = ui.backends.querySelector<HTMLInputElement>('input[name=backend]:checked');
  return checked?.value ?? 'cpu';
}

/** Tries to start every backend; the ones that fail are shown disabled with their error. */
async function detectBackends(preferred: string | null): Promise<void> {
  for (const name of BACKENDS) {
    try {
      const b = await initBackend(name);
      state.backends[name] = { ok: true, reason: '', info: { ...(b.capabilities.info ?? {}) } };
    } catch (err) {
      state.backends[name] = { ok: false, reason: (err as Error).message ?? String(err), info: {} };
    }
  }
  const fallback =
    preferred && state.backends[preferred]?.ok ? preferred : state.backends.wasm?.ok ? 'wasm' : 'cpu';
  for (const name of BACKENDS) {
    const s = state.backends[name];
    const label = document.createElement('label');
    label.className = `backend${s.ok ? '' : ' off'}`;
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'backend';
    input.value = name;
    input.disabled = !s.ok;
    input.checked = name === fallback;
    label.append(input, ` ${name}`);
    const note = document.createElement('small');
    note.textContent = s.ok ? describe(name, s) : `unavailable: ${s.reason}`;
    label.append(note);
    ui.backends.append(label);
  }
  const wasm = state.backends.wasm;
  const threads = Number(wasm?.info.threads ?? 1);
  ui.threads.textContent = !wasm?.ok
    ? 'wasm backend unavailable.'
    : threads > 1
      ? `wasm threads: on (${threads} threads; the page is cross-origin isolated).`
      : state.crossOriginIsolated && navigator.hardwareConcurrency === 1
        ? 'wasm threads: possible, but this device reports one core, so one thread.'
        : `wasm threads: off, one thread (${wasm.info.threadsReason ?? 'not cross-origin isolated'}).`;
  ui.threads.dataset.threads = String(threads);
}

function describe(name: string, s: BackendStatus): string {
  if (name === 'wasm')
    return `${s.info.threads} thread(s), SIMD${s.info.relaxedSimd ? ' + relaxed SIMD' : ''}`;
  if (name === 'webgpu') return String(s.info.adapter ?? s.info.device ?? 'GPU');
  return 'plain TypeScript';
}

const dataCache = new Map<string, Split>();

async function getData(name: string): Promise<Split> {
  let data = dataCache.get(name);
  if (!data) {
    if (name === 'spirals') data = split(makeSpirals(300, 3, 0.15, 1), 0.2, 2);
    else if (name === 'mnist') {
      setStatus('loading', 'Fetching MNIST digits…');
      data = split(await loadDigits(500), 0.2, 3);
    } else throw new Error(`unknown dataset '${name}' (expected spirals or mnist)`);
    dataCache.set(name, data);
  }
  return data;
}

let trainer: Trainer | null = null;
const boundaryCells = gridCells(GRID, EXTENT);

/** The rows whose predictions are drawn: boundary grid cells (spirals) or the first test digits. */
function probeRows(data: Split): Float32Array<ArrayBuffer> {
  return data.test.features === 2 ? boundaryCells : data.test.x.slice(0, DIGIT_SAMPLES * data.test.features);
}

/** Redraws the boundary (spirals) or the digit samples (MNIST) from the probe's predictions. */
function drawModelViews(t: Trainer, probe: Int32Array | null): void {
  const { test } = t.data;
  if (test.features === 2) {
    if (probe) drawBoundary(ui.boundary, probe, GRID, EXTENT, [t.data.train, test]);
  } else {
    drawDigits(ui.digits, t.probe, test.y.subarray(0, DIGIT_SAMPLES), probe, DIGIT_COLUMNS);
  }
}

function showDatasetViews(ds: Dataset): void {
  ui.boundaryFig.hidden = ds.features !== 2;
  ui.digitsFig.hidden = ds.features === 2;
}

/** Fills the stat tiles above the charts with an epoch's numbers (dashes before the first). */
function showEpoch(s: EpochStats | null, epochs: number): void {
  const percent = (v: number) => `${(100 * v).toFixed(1)}%`;
  ui.stat.epoch.textContent = s ? `${s.epoch} / ${epochs}` : '–';
  ui.stat.loss.textContent = s ? s.loss.toFixed(4) : '–';
  ui.stat.train.textContent = s ? percent(s.trainAccuracy) : '–';
  ui.stat.test.textContent = s ? percent(s.testAccuracy) : '–';
  ui.stat.speed.textContent = s ? Math.round(s.samplesPerSec).toLocaleString('en-US') : '–';
}

/** The header's "backend in use": the selected backend and what the browser gave it. */
function showBackend(name: string): void {
  const s = state.backends[name];
  ui.backendName.textContent = name;
  ui.backendDetail.textContent = s?.ok ? `· ${describe(name, s)}` : '';
}

/** Discards the model and its progress, keeping the settings. */
function resetRun(): void {
  trainer?.dispose();
  trainer = null;
  Object.assign(state, { config: null, history: [], result: null, saved: null, loaded: null, error: null });
  charts.reset(Number(ui.epochs.value) || 1);
  showEpoch(null, 0);
  clearCanvas(ui.boundary);
  clearCanvas(ui.digits);
  ui.selftest.hidden = true;
  setBusy(false);
  setStatus('ready', 'Reset: pick the settings and press Train.');
}

function readConfig(): TrainConfig {
  const num = (el: HTMLInputElement, what: string, integer: boolean) => {
    const v = Number(el.value);
    if (!Number.isFinite(v) || v <= 0 || (integer && !Number.isInteger(v))) {
      throw new Error(`${what} must be a positive ${integer ? 'integer' : 'number'}, got '${el.value}'`);
    }
    return v;
  };
  const batchSize = num(ui.batch, 'batch size', true);
  if (batchSize < 2) throw new Error('batch size must be at least 2 (BatchNorm1d needs two samples)');
  return {
    backend: selectedBackend(),
    batchNorm: ui.bn.checked,
    lr: num(ui.lr, 'learning rate', false),
    batchSize,
    epochs: num(ui.epochs, 'epochs', true),
    hidden: ui.dataset.value === 'spirals' ? [64, 64] : [128],
    seed: 0,
    compiled: ui.compiled.checked,
  };
}

function setBusy(busy: boolean): void {
  ui.train.disabled = busy;
  ui.stop.disabled = !busy;
  // Reset waits for Stop: disposing a model mid-step would pull its tensors from under the loop.
  ui.reset.disabled = busy;
  ui.save.disabled = busy || !trainer;
  ui.load.disabled = busy;
  for (const el of [ui.dataset, ui.bn, ui.compiled, ui.lr, ui.batch, ui.epochs]) el.disabled = busy;
  for (const el of ui.backends.querySelectorAll<HTMLInputElement>('input')) {
    el.disabled = busy || !state.backends[el.value]?.ok;
  }
}

/** Measures the longest gap between ticks of a 20 ms timer: how long the page was unresponsive. */
function stallWatch(): { stop: () => number } {
  let last = performance.now();
  let worst = 0;
  const id = setInterval(() => {
    const now = performance.now();
    worst = Math.max(worst, now - last - 20);
    last = now;
  }, 20);
  let result: number | null = null;
  return {
    stop: () => {
      clearInterval(id);
      result ??= Math.max(worst, performance.now() - last - 20);
      return result;
    },
  };
}

async function startTraining(): Promise<void> {
  const config = readConfig();
  const data = await getData(ui.dataset.value);
  showDatasetViews(data.train);
  trainer?.dispose();
  trainer = await Trainer.create(config, data, probeRows(data));
  const t = trainer;
  state.config = config;
  state.dataset = ui.dataset.value;
  state.history = [];
  state.result = null;
  state.saved = null;
  state.loaded = null;
  state.error = null;
  setBusy(true);
  showBackend(config.backend);
  setStatus('training', `Training on ${config.backend}…`);
  const watchdog = stallWatch();
  let finished: boolean;
  try {
    charts.reset(config.epochs);
    showEpoch(null, config.epochs);
    drawModelViews(t, (await t.evaluate()).probe);
    finished = await t.run(async (s) => {
      state.history.push(s);
      charts.show(state.history);
      drawModelViews(t, s.probe);
      showEpoch(s, config.epochs);
    });
  } finally {
    watchdog.stop();
  }
  const maxStallMs = watchdog.stop();
  if (trainer !== t) return; // superseded by a newer run
  setBusy(false);
  const last = state.history.at(-1);
  if (last) {
    state.result = {
      backend: config.backend,
      testAccuracy: last.testAccuracy,
      trainAccuracy: last.trainAccuracy,
      samplesPerSec: last.samplesPerSec,
      epochs: last.epoch,
      maxStallMs,
    };
  }
  setStatus(
    finished ? 'done' : 'stopped',
    `${finished ? 'Done' : 'Stopped'} on ${config.backend}: ${last ? `test accuracy ${(100 * last.testAccuracy).toFixed(1)}%` : 'no epoch finished'}.`,
  );
}

async function saveWeights(): Promise<void> {
  const t = trainer;
  if (!t) throw new Error('nothing to save: train a model first');
  const bytes = await save(t.model);
  state.saved = {
    predictions: Array.from(await predict(t.model, t.data.test.x, t.data.test.features)),
    bytes: bytes.length,
  };
  const url = URL.createObjectURL(
    new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }),
  );
  const a = document.createElement('a');
  a.href = url;
  a.download = `nabla-${state.dataset}-${t.config.backend}.safetensors`;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  ui.status.textContent = `Saved ${bytes.length.toLocaleString('en-US')} bytes of weights.`;
}

/**
 * Builds a model shaped like the file (hidden widths from the Linear weights, BatchNorm1d
 * if running statistics are present) on the selected backend and loads the weights into it.
 */
async function loadWeights(file: File): Promise<void> {
  state.error = null;
  const bytes = new Uint8Array(await file.arrayBuffer());
  const { tensors } = decodeSafetensors(bytes);
  const linears = [...tensors.entries()]
    .filter(([k, v]) => k.endsWith('.weight') && v.shape.length === 2)
    .sort(([a], [b]) => Number.parseInt(a, 10) - Number.parseInt(b, 10))
    .map(([, v]) => v.shape);
  if (linears.length === 0)
    throw new Error(`${file.name}: no Linear weights ([out, in] '*.weight' tensors) in the file`);
  const features = linears[0][1];
  const dataset = features === 2 ? 'spirals' : features === 784 ? 'mnist' : null;
  if (!dataset)
    throw new Error(`${file.name}: the first layer takes ${features} inputs; spirals need 2, MNIST 784`);
  ui.dataset.value = dataset;
  ui.bn.checked = [...tensors.keys()].some((k) => k.endsWith('running_mean'));
  const data = await getData(dataset);
  showDatasetViews(data.train);
  const config = { ...readConfig(), hidden: linears.slice(0, -1).map((s) => s[0]) };
  trainer?.dispose();
  trainer = await Trainer.create(config, data, probeRows(data));
  await load(trainer.model, bytes);
  state.dataset = dataset;
  state.config = config;
  // The charts showed how the previous model trained; this one arrived trained.
  state.history = [];
  charts.reset(config.epochs);
  showEpoch(null, 0);
  showBackend(config.backend);
  const predictions = await predict(trainer.model, data.test.x, data.test.features);
  const saved = state.saved?.predictions;
  const mismatches =
    saved && saved.length === predictions.length ? predictions.filter((p, i) => p !== saved[i]).length : -1;
  const evaluation = await trainer.evaluate();
  state.loaded = {
    testAccuracy: evaluation.testAccuracy,
    identicalToSaved: saved ? mismatches === 0 : null,
    mismatches,
  };
  drawModelViews(trainer, evaluation.probe);
  setBusy(false);
  setStatus(
    'done',
    `Loaded ${file.name} on ${config.backend}: test accuracy ${(100 * state.loaded.testAccuracy).toFixed(1)}%` +
      (saved
        ? mismatches === 0
          ? ', predictions identical to the saved model.'
          : `, ${mismatches} predictions differ.`
        : '.'),
  );
}

async function runSelfTest(): Promise<void> {
  const others = BACKENDS.filter((b) => b !== 'cpu' && state.backends[b]?.ok);
  setStatus('training', `Self-test: comparing ${others.join(', ') || 'no other backend'} with cpu…`);
  state.selftest = await selfTest(others);
  ui.selftest.hidden = false;
  ui.selftest.textContent = state.selftest
    .map(
      (c) =>
        `${c.ok ? 'ok  ' : 'FAIL'} ${c.backend.padEnd(7)} ${c.name} (max error ${c.maxError.toExponential(1)})${c.error ? `: ${c.error}` : ''}`,
    )
    .join('\n');
  const failed = state.selftest.filter((c) => !c.ok).length;
  setStatus(
    'selftest-done',
    `Self-test: ${state.selftest.length - failed}/${state.selftest.length} cases agree with cpu.`,
  );
}

const guard =
  <A extends unknown[]>(fn: (...args: A) => Promise<void>) =>
  (...args: A) => {
    fn(...args).catch((err) => {
      setBusy(false);
      fail(err);
    });
  };

async function init(): Promise<void> {
  const params = new URLSearchParams(location.search);
  if (params.has('dataset')) ui.dataset.value = params.get('dataset') ?? 'spirals';
  if (params.has('lr')) ui.lr.value = params.get('lr') ?? '';
  if (params.has('batch')) ui.batch.value = params.get('batch') ?? '';
  if (params.has('epochs')) ui.epochs.value = params.get('epochs') ?? '';
  if (params.has('bn')) ui.bn.checked = params.get('bn') !== '0';
  if (params.has('compiled')) ui.compiled.checked = params.get('compiled') !== '0';
  setStatus('loading', 'Starting backends…');
  await detectBackends(params.get('backend'));
  await setBackend(selectedBackend());
  showBackend(selectedBackend());
  ui.backends.addEventListener('change', () => showBackend(selectedBackend()));
  charts.reset(Number(ui.epochs.value) || 1);
  ui.train.addEventListener('click', guard(startTraining));
  ui.stop.addEventListener('click', () => trainer?.stop());
  ui.reset.addEventListener('click', resetRun);
  ui.save.addEventListener('click', guard(saveWeights));
  ui.load.addEventListener(
    'change',
    guard(async () => {
      const file = ui.load.files?.[0];
      ui.load.value = '';
      if (file) await loadWeights(file);
    }),
  );
  ui.dataset.addEventListener('change', () => {
    ui.lr.value = ui.dataset.value === 'spirals' ? '0.02' : '0.005';
    ui.epochs.value = ui.dataset.value === 'spirals' ? '30' : '5';
  });
  setBusy(false);
  setStatus('ready', 'Ready: pick the settings and press Train.');
  if (params.get('selftest') === '1') await runSelfTest();
  else if (params.get('autotrain') === '1') await startTraining();
}

guard(init)();
