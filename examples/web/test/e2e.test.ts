/**
 * End-to-end: builds the playground with Vite, serves it with COOP/COEP headers and drives
 * Debian's chromium (headless, WebGPU on SwiftShader) through playwright-core. Trains spirals
 * on every backend the browser starts, checks the drawings, the save/load round trip and the
 * console, and runs the page's cross-backend self-test. Screenshots go to test-artifacts/.
 */
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHROMIUM, CHROMIUM_FLAGS } from '../../../tools/test-setup/chromium.mjs';
import { serveStatic } from './server.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const ARTIFACTS = join(ROOT, 'test-artifacts');
const hasChromium = existsSync(CHROMIUM);

if (!hasChromium) {
  console.warn(
    `\n*** SKIPPING the browser end-to-end tests of examples/web: ${CHROMIUM} is missing ` +
      '(apt-get install -y chromium; .ci/run installs it). ***\n',
  );
}

/** Settings per backend: WebGPU runs on a software rasterizer here, so it trains briefly. */
const RUNS: Record<string, string> = {
  cpu: 'epochs=30&lr=0.02&batch=64',
  wasm: 'epochs=30&lr=0.02&batch=64',
  webgpu: 'epochs=10&lr=0.03&batch=128',
};

interface PageState {
  status: string;
  backends: Record<string, { ok: boolean; reason: string; info: Record<string, unknown> }>;
  crossOriginIsolated: boolean;
  history: unknown[];
  result: {
    testAccuracy: number;
    trainAccuracy: number;
    samplesPerSec: number;
    epochs: number;
    maxStallMs: number;
  } | null;
  saved: { predictions: number[] } | null;
  loaded: { testAccuracy: number; identicalToSaved: boolean | null; mismatches: number } | null;
  selftest: { backend: string; name: string; ok: boolean; maxError: number; error?: string }[] | null;
  error: string | null;
}

/** What {@link readChart} finds in one uPlot chart. */
interface ChartReading {
  title: string | null;
  /** The chart's accessible description, naming its axes. */
  ariaLabel: string | null;
  legend: string[];
  /** How many epochs the page says it plotted. */
  points: string | null;
  canvas: { width: number; height: number };
  /** Share of the y axis gutter (left of the plot) in the axis grey: tick values and the label. */
  yAxisInk: number;
  /** The same below the plot: the x axis. */
  xAxisInk: number;
  /** Share of the canvas in each line colour asked for. */
  lines: Record<string, number>;
}

describe.skipIf(!hasChromium)('playground in headless chromium', () => {
  let browser: Browser;
  let server: { url: string; close: () => Promise<void> };
  let backends: PageState['backends'] = {};

  beforeAll(async () => {
    await rm(ARTIFACTS, { recursive: true, force: true });
    await mkdir(ARTIFACTS, { recursive: true });
    await build({ root: ROOT, configFile: join(ROOT, 'vite.config.ts'), logLevel: 'warn' });
    server = await serveStatic(join(ROOT, 'dist'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...CHROMIUM_FLAGS],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** A fresh page that records console errors and uncaught exceptions. */
  async function open(context: BrowserContext, query: string): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    page.on('pageerror', (e) => errors.push(`uncaught: ${e.message}`));
    await page.goto(`${server.url}/?${query}`);
    return { page, errors };
  }

  const pageState = (page: Page) =>
    page.evaluate(() => (window as unknown as { __nabla: PageState }).__nabla);

  async function waitForStatus(page: Page, statuses: string[], timeout: number): Promise<PageState> {
    await page.waitForFunction(
      (s) => s.includes((window as unknown as { __nabla?: { status: string } }).__nabla?.status ?? ''),
      statuses,
      { timeout, polling: 100 },
    );
    return pageState(page);
  }

  /**
   * What a uPlot chart drew: its title and legend (DOM), its canvas size, the share of the
   * canvas in each line colour, and the share of the gutters (left of and below the plotting
   * area, where the tick values and axis labels go) in the axes' grey.
   */
  async function readChart(page: Page, id: string, colors: Record<string, number[]>): Promise<ChartReading> {
    return page.evaluate(
      ({ id, colors }) => {
        const host = document.getElementById(id) as HTMLElement;
        const canvas = host.querySelector('canvas') as HTMLCanvasElement;
        const over = host.querySelector('.u-over') as HTMLElement;
        const d = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
          0,
          0,
          canvas.width,
          canvas.height,
        ).data;
        const near = (i: number, rgb: number[]) =>
          Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) + Math.abs(d[i + 2] - rgb[2]) < 60;
        const share = (rgb: number[], x0: number, y0: number, x1: number, y1: number) => {
          let n = 0;
          for (let y = y0; y < y1; y++) {
            for (let x = x0; x < x1; x++) if (near((y * canvas.width + x) * 4, rgb)) n++;
          }
          return n / Math.max(1, (x1 - x0) * (y1 - y0));
        };
        const ink = [0x5f, 0x63, 0x68];
        const scale = canvas.width / canvas.clientWidth;
        const left = Math.round(over.offsetLeft * scale);
        const bottom = Math.round((over.offsetTop + over.offsetHeight) * scale);
        const lines: Record<string, number> = {};
        for (const [name, rgb] of Object.entries(colors)) {
          lines[name] = share(rgb, 0, 0, canvas.width, canvas.height);
        }
        const reading: ChartReading = {
          title: host.querySelector('.u-title')?.textContent ?? null,
          ariaLabel: host.getAttribute('aria-label'),
          legend: [...host.querySelectorAll('.u-legend .u-series th')].map(
            (th) => th.textContent?.trim() ?? '',
          ),
          points: host.dataset.points ?? null,
          canvas: { width: canvas.width, height: canvas.height },
          yAxisInk: share(ink, 0, 0, left, bottom),
          xAxisInk: share(ink, left, bottom, canvas.width, canvas.height),
          lines,
        };
        return reading;
      },
      { id, colors },
    );
  }

  it('starts cpu, wasm with threads (cross-origin isolated) and WebGPU', async () => {
    const context = await browser.newContext();
    const { page, errors } = await open(context, '');
    const s = await waitForStatus(page, ['ready', 'error'], 20_000);
    backends = s.backends;
    expect(s.error).toBeNull();
    expect(s.crossOriginIsolated).toBe(true);
    expect(s.backends.cpu.ok).toBe(true);
    expect(s.backends.wasm.ok, s.backends.wasm.reason).toBe(true);
    // One worker per reported core: a one-core machine legitimately gets a single thread.
    if ((await page.evaluate(() => navigator.hardwareConcurrency)) > 1) {
      expect(Number(s.backends.wasm.info.threads)).toBeGreaterThan(1);
      expect(await page.textContent('#threads')).toMatch(/wasm threads: on/);
    } else {
      expect(await page.textContent('#threads')).toMatch(/wasm threads: possible/);
    }
    if (!s.backends.webgpu.ok) console.warn(`WebGPU did not start in chromium: ${s.backends.webgpu.reason}`);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('says so when wasm runs on one thread (no COOP/COEP) and disables a backend that cannot start', async () => {
    const plain = await serveStatic(join(ROOT, 'dist'), { isolate: false });
    const context = await browser.newContext();
    // Hide WebGPU from the page, as in a browser without it.
    await context.addInitScript(() => {
      Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true });
    });
    try {
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${plain.url}/`);
      const s = await waitForStatus(page, ['ready', 'error'], 20_000);
      expect(s.crossOriginIsolated).toBe(false);
      expect(s.backends.wasm.ok).toBe(true);
      expect(s.backends.wasm.info.threads).toBe(1);
      expect(await page.textContent('#threads')).toMatch(
        /wasm threads: off, one thread .*cross-origin isolated/,
      );
      expect(s.backends.webgpu.ok).toBe(false);
      expect(await page.isDisabled('input[name=backend][value=webgpu]')).toBe(true);
      expect(await page.textContent('label.backend.off')).toMatch(/unavailable: .*navigator\.gpu is missing/);
      expect(errors).toEqual([]);
    } finally {
      await context.close();
      await plain.close();
    }
  });

  for (const backend of Object.keys(RUNS)) {
    it(`trains spirals on ${backend} above 90%, draws, and round-trips saved weights`, async (ctx) => {
      if (!backends[backend]?.ok) {
        console.warn(`skipping ${backend}: ${backends[backend]?.reason ?? 'not detected'}`);
        ctx.skip();
      }
      const context = await browser.newContext({
        acceptDownloads: true,
        viewport: { width: 1040, height: 900 },
      });
      const { page, errors } = await open(
        context,
        `dataset=spirals&backend=${backend}&autotrain=1&${RUNS[backend]}`,
      );
      const t0 = Date.now();
      const s = await waitForStatus(page, ['done', 'stopped', 'error'], 80_000);
      const seconds = (Date.now() - t0) / 1000;
      expect(s.error).toBeNull();
      expect(s.status).toBe('done');
      const r = s.result;
      if (!r) throw new Error('the page finished without a result');
      console.log(
        `${backend}: test accuracy ${(100 * r.testAccuracy).toFixed(1)}%, train ${(100 * r.trainAccuracy).toFixed(1)}%, ` +
          `${Math.round(r.samplesPerSec)} samples/s, ${r.epochs} epochs in ${seconds.toFixed(1)} s, ` +
          `longest stall ${Math.round(r.maxStallMs)} ms`,
      );
      expect(r.testAccuracy).toBeGreaterThan(0.9);
      // The page stays responsive: a 20 ms timer kept firing (a loop that starves timers stalls for the whole run).
      expect(r.maxStallMs).toBeLessThan(1500);
      await page.screenshot({ path: join(ARTIFACTS, `spirals-${backend}.png`), fullPage: true });

      // The boundary shows all three class regions.
      const regions = await page.evaluate(() => {
        const c = document.getElementById('boundary') as HTMLCanvasElement;
        const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
        const share = (rgb: number[]) => {
          let n = 0;
          for (let i = 0; i < d.length; i += 4) {
            if (Math.abs(d[i] - rgb[0]) + Math.abs(d[i + 1] - rgb[1]) + Math.abs(d[i + 2] - rgb[2]) < 30) n++;
          }
          return n / (c.width * c.height);
        };
        return [share([0xfd, 0xe2, 0xc8]), share([0xcf, 0xe3, 0xf7]), share([0xd6, 0xef, 0xd0])];
      });
      for (const share of regions) expect(share).toBeGreaterThan(0.1);

      // The uPlot charts: titled, every epoch plotted, the lines drawn, and tick values and axis
      // labels (grey ink) left of and below the plotting area.
      const loss = await readChart(page, 'loss-chart', { line: [0xc5, 0x22, 0x1f] });
      expect(loss.title).toBe('Training loss');
      expect(loss.ariaLabel).toMatch(/x axis epoch, y axis cross-entropy loss/);
      const accuracy = await readChart(page, 'accuracy-chart', {
        line: [0x18, 0x80, 0x38],
        dashed: [0x1a, 0x73, 0xe8],
      });
      expect(accuracy.title).toBe('Accuracy');
      expect(accuracy.legend).toEqual(['train', 'test']);
      expect(accuracy.ariaLabel).toMatch(/x axis epoch, y axis accuracy \(%\)/);
      for (const chart of [loss, accuracy]) {
        expect(chart.canvas.width).toBeGreaterThan(300);
        expect(chart.canvas.height).toBeGreaterThan(150);
        expect(chart.points).toBe(String(r.epochs));
        expect(chart.lines.line).toBeGreaterThan(0.002);
        expect(chart.yAxisInk).toBeGreaterThan(0.02);
        expect(chart.xAxisInk).toBeGreaterThan(0.01);
      }
      expect(accuracy.lines.dashed).toBeGreaterThan(0.001);

      // Save through the button (a real download), then load the file through the file input.
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#save')]);
      const file = join(ARTIFACTS, download.suggestedFilename());
      await download.saveAs(file);
      expect(download.suggestedFilename()).toBe(`nabla-spirals-${backend}.safetensors`);
      await page.waitForFunction(() => (window as unknown as { __nabla: PageState }).__nabla.saved !== null);
      await page.setInputFiles('#load', file);
      await page.waitForFunction(() => {
        const s = (window as unknown as { __nabla: PageState }).__nabla;
        return s.loaded !== null || s.status === 'error';
      });
      const after = await pageState(page);
      expect(after.error).toBeNull();
      expect(after.loaded?.mismatches).toBe(0);
      expect(after.loaded?.identicalToSaved).toBe(true);
      expect(after.loaded?.testAccuracy).toBe(r.testAccuracy);
      expect(errors).toEqual([]);
      await context.close();
    }, 90_000);
  }

  it('trains MNIST digits on wasm and captions test digits with predictions', async () => {
    const context = await browser.newContext({ viewport: { width: 1040, height: 900 } });
    const { page, errors } = await open(
      context,
      'dataset=mnist&backend=wasm&autotrain=1&epochs=2&lr=0.005&batch=64',
    );
    const s = await waitForStatus(page, ['done', 'stopped', 'error'], 40_000);
    expect(s.error).toBeNull();
    console.log(
      `mnist on wasm: test accuracy ${(100 * (s.result?.testAccuracy ?? 0)).toFixed(1)}% after 2 epochs`,
    );
    expect(s.result?.testAccuracy).toBeGreaterThan(0.85);
    expect(await page.isHidden('#boundary-fig')).toBe(true);
    // Dark digit strokes and green (correct) captions are on the canvas.
    const shares = await page.evaluate(() => {
      const c = document.getElementById('digits') as HTMLCanvasElement;
      const d = (c.getContext('2d') as CanvasRenderingContext2D).getImageData(0, 0, c.width, c.height).data;
      let dark = 0;
      let green = 0;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i] < 60 && d[i + 1] < 60 && d[i + 2] < 60) dark++;
        if (d[i + 1] > d[i] + 40 && d[i + 1] > d[i + 2] + 40) green++;
      }
      return { dark: dark / (c.width * c.height), green: green / (c.width * c.height) };
    });
    expect(shares.dark).toBeGreaterThan(0.02);
    expect(shares.green).toBeGreaterThan(0.001);
    await page.screenshot({ path: join(ARTIFACTS, 'mnist-wasm.png'), fullPage: true });

    // Reset discards the model and clears the charts and the digits.
    await page.click('#reset');
    const reset = await waitForStatus(page, ['ready', 'error'], 5_000);
    expect(reset.history).toEqual([]);
    expect(await page.getAttribute('#loss-chart', 'data-points')).toBe('0');
    expect(await page.textContent('#stat-epoch')).toBe('–');
    expect(await page.isDisabled('#save')).toBe(true);
    expect(errors).toEqual([]);
    await context.close();
  });

  it('runs the cross-backend self-test in the page: wasm and webgpu agree with cpu', async () => {
    const context = await browser.newContext();
    const { page, errors } = await open(context, 'selftest=1');
    const s = await waitForStatus(page, ['selftest-done', 'error'], 30_000);
    expect(s.error).toBeNull();
    const cases = s.selftest ?? [];
    const expected = ['wasm', 'webgpu'].filter((b) => backends[b]?.ok);
    expect(expected).toContain('wasm');
    for (const b of expected) expect(cases.filter((c) => c.backend === b).length).toBeGreaterThanOrEqual(7);
    const failed = cases.filter((c) => !c.ok);
    expect(failed, JSON.stringify(failed, null, 1)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'selftest.png'), fullPage: true });
    expect(errors).toEqual([]);
    await context.close();
  });
});
