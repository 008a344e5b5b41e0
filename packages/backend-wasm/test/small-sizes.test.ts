/**
 * The small-size path: a W5-sized training step (32→64→BN→ReLU→64→BN→ReLU→2, batch 32, Adam)
 * takes its buffers from the allocator's free lists in steady state, runs every kernel on the
 * calling thread (below the thresholds), and idle workers sleep instead of spinning.
 */

import type { MatmulArgs } from '@nabla/core';
import * as nb from '@nabla/core';
import { BatchNorm1d, CrossEntropyLoss, Linear, ReLU, Sequential } from '@nabla/nn';
import { Adam } from '@nabla/optim';
import { trainingStep } from '@nabla/test-kit';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createWasmBackend, type WasmBackend } from '../src/backend.js';
import { shareRows } from '../src/kernels/matmul.js';
import { DEFAULT_THREADING, resolveThreading } from '../src/threading.js';
import { registerWasm } from './helpers.js';

/** `A·B` on one backend through its matmul kernel, read back as numbers. */
function matmulOn(
  be: WasmBackend,
  a: Float32Array,
  b: Float32Array,
  args: Omit<MatmulArgs, 'a' | 'b' | 'out'>,
): number[] {
  const [ba, bb, bc] = [a.length, b.length, args.m * args.n].map((size) => be.alloc(size, 'float32'));
  be.write(ba, a);
  be.write(bb, b);
  be.kernels.matmul({ a: ba, b: bb, out: bc, ...args });
  const out = Array.from(be.readSync(bc));
  for (const x of [ba, bb, bc]) be.disposeBuffer(x);
  return out;
}

describe('the wasm small-size path', () => {
  const wasm = registerWasm({ threads: 2 });

  it('a W5 training step reuses freed blocks (free-list hits, no misses, no growth) on one thread', async () => {
    nb.manualSeed(3);
    const model = new Sequential(
      new Linear(32, 64),
      new BatchNorm1d(64),
      new ReLU(),
      new Linear(64, 64),
      new BatchNorm1d(64),
      new ReLU(),
      new Linear(64, 2),
    );
    const opt = new Adam(model.parameters(), { lr: 1e-3 });
    const lossFn = new CrossEntropyLoss();
    const x = nb.randn([32, 32]);
    const y = nb.randint(0, 2, [32]);
    const step = async () => {
      const loss = trainingStep(model, lossFn, opt, x, y);
      const v = await loss.item();
      loss.dispose();
      return v;
    };
    for (let i = 0; i < 3; i++) await step(); // optimizer state and free lists fill up
    const a0 = { ...wasm.be.allocatorStats };
    const p0 = wasm.be.poolStats.runs;
    const counter = nb.countBackendCalls(wasm.be);
    const losses: number[] = [];
    for (let i = 0; i < 5; i++) losses.push(await step());
    const calls = counter.snapshot();
    counter.stop();
    const reused = wasm.be.allocatorStats.reused - a0.reused;
    const fresh = wasm.be.allocatorStats.fresh - a0.fresh;
    // every buffer a step allocates is a hit on its size class's free list or the top of the heap
    expect(calls.allocs).toBeGreaterThan(0);
    expect(reused + fresh).toBe(calls.allocs);
    expect(reused).toBeGreaterThan(0);
    expect(wasm.be.allocatorStats.grows - a0.grows).toBe(0);
    // misses (bump allocations) only where a freed block sat at the top and was folded back
    expect(fresh / calls.allocs).toBeLessThan(0.5);
    // W5's kernels are all below the thresholds: nothing was handed to a worker
    expect(wasm.be.poolStats.runs - p0).toBe(0);
    expect(losses.every(Number.isFinite)).toBe(true);
    for (const t of [x, y, ...model.parameters(), ...model.buffers()]) t.dispose();
    for (const s of opt.state.values())
      for (const v of Object.values(s)) if (v instanceof nb.Tensor) v.dispose();
  });

  it('an idle worker sleeps: after a parallel kernel the process uses about one core, not two', () => {
    const n = 256;
    const a = wasm.be.alloc(n * n, 'float32');
    const c = wasm.be.alloc(n * n, 'float32');
    wasm.be.kernels.fill({ out: a, value: 0.5 });
    const args = { batch: 1, m: n, n, k: n, transA: false, transB: false, strideA: 0, strideB: 0 };
    const runs0 = wasm.be.poolStats.runs;
    wasm.be.kernels.matmul({ a, b: a, out: c, ...args }); // 16.7 M multiply-adds: split across the two threads
    expect(wasm.be.poolStats.runs).toBeGreaterThan(runs0);
    // the caller now sleeps 300 ms; a worker spinning all that time would add ~300 ms of CPU.
    // The bound leaves room for the process's own background threads (GC, JIT: up to ~25 ms
    // were seen in a loaded CI run) while a spin would still exceed it fivefold.
    const cpu0 = process.cpuUsage();
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
    const cpu = process.cpuUsage(cpu0);
    expect((cpu.user + cpu.system) / 1000).toBeLessThan(60);
    wasm.be.disposeBuffer(a);
    wasm.be.disposeBuffer(c);
  });

  it('work stealing: shares no worker has started run on the caller, with the same results', async () => {
    // every kernel split (thresholds 0), workers asleep at once (no spin): the caller often
    // finds its worker's share unclaimed and runs it itself
    const split = await createWasmBackend({
      threads: 2,
      threading: { minParallelMacs: 0, minParallelElements: 0, spinMicros: 0 },
    });
    const alone = await createWasmBackend({ threads: 1 });
    try {
      for (let i = 0; i < 60; i++) {
        const [m, n, k] = [8 + ((i * 7) % 40), 8 + ((i * 13) % 56), 4 + ((i * 5) % 30)];
        const args = { batch: 1, m, n, k, transA: i % 2 === 1, transB: i % 3 === 1, strideA: 0, strideB: 0 };
        const a = Float32Array.from({ length: m * k }, (_, j) => Math.sin(j + i));
        const b = Float32Array.from({ length: k * n }, (_, j) => Math.cos(j * 0.5 + i));
        expect(matmulOn(split, a, b, args)).toEqual(matmulOn(alone, a, b, args));
      }
      const s = split.poolStats;
      expect(s.runs).toBeGreaterThanOrEqual(60);
      // on an idle machine the worker wins some races and the caller others; both paths ran
      expect(s.stolen).toBeGreaterThan(0); // tiny shares: the caller finishes first and takes them
      expect(s.stolen).toBeLessThanOrEqual(s.runs * 2);
    } finally {
      split.destroy();
      alone.destroy();
    }
  });

  it('a large product goes out in several shares per thread, taken by whichever thread is free', async () => {
    const split = await createWasmBackend({ threads: 2 });
    const alone = await createWasmBackend({ threads: 1 });
    try {
      const [m, n, k] = [256, 96, 200]; // 4.9 M multiply-adds: above the split threshold
      const a = Float32Array.from({ length: m * k }, (_, j) => Math.sin(j));
      const b = Float32Array.from({ length: k * n }, (_, j) => Math.cos(j * 0.5));
      const args = { batch: 1, m, n, k, transA: false, transB: false, strideA: 0, strideB: 0 };
      const before = { ...split.poolStats };
      expect(matmulOn(split, a, b, args)).toEqual(matmulOn(alone, a, b, args));
      // C's 256 rows went out in 8 shares (B's packing, one block here, ran unsplit)
      expect(split.poolStats.runs - before.runs).toBe(1);
      expect(split.poolStats.shares - before.shares).toBe(8);
    } finally {
      split.destroy();
      alone.destroy();
    }
  });

  it('shares cover every row once, in whole micro-tiles, smallest where the threads meet', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4096 }),
        fc.integer({ min: 1, max: 8 }),
        fc.integer({ min: 0, max: 24 }),
        (m, threads, extra) => {
          const rows = shareRows(m, threads + extra, threads);
          expect(rows.reduce((a, b) => a + b, 0)).toBe(m);
          expect(rows.length).toBeLessThanOrEqual(threads + extra);
          for (let i = 0; i < rows.length; i++) {
            expect(rows[i]).toBeGreaterThan(0);
            if (i < rows.length - 1) expect((rows[i] as number) % 4).toBe(0);
          }
        },
      ),
    );
    // W1's first layer on two threads, eight shares: the caller's and the worker's own, then
    // six unowned ones that shrink toward the middle, where the two threads meet
    expect(shareRows(256, 8, 2)).toEqual([44, 40, 44, 28, 16, 12, 28, 44]);
    expect(shareRows(256, 2, 2)).toEqual([128, 128]);
  });

  it('threading options are validated and default to the measured thresholds', () => {
    expect(resolveThreading()).toEqual(DEFAULT_THREADING);
    expect(resolveThreading({ spinMicros: 0 }).spinMicros).toBe(0);
    expect(() => resolveThreading({ minParallelMacs: -1 })).toThrow(
      /minParallelMacs must be a finite number/,
    );
  });
});
