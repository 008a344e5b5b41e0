/** The command stream, buffer pool, memory accounting and error paths. */
import { type Backend, E, fusedKernels, pointwiseProgram } from '@nabla/core';
import { readBack, upload, view } from '@nabla/test-kit';
import { afterAll, describe, expect, it } from 'vitest';
import { grid } from '../src/kernels/wgsl.js';
import { sizeClass } from '../src/pool.js';
import { openBackend, prog, pw } from './helpers.js';

const ADD = prog('add', 2, E.add);
const NEG = prog('neg', 1, E.neg);

const backend = await openBackend();

describe('size classes and grids (no device needed)', () => {
  it('size classes waste under 25% and never go below 16 bytes', () => {
    expect(sizeClass(0)).toBe(16);
    expect(sizeClass(16)).toBe(16);
    for (const bytes of [17, 100, 4096, 4100, 1e6, 123456789]) {
      const c = sizeClass(bytes);
      expect(c).toBeGreaterThanOrEqual(bytes);
      expect(c).toBeLessThan(bytes * 1.25 + 4);
      expect(c % 4).toBe(0);
    }
  });
  it('grids go 2D beyond the per-dimension limit', () => {
    expect(grid(10, 65535)).toEqual([10, 1, 1]);
    expect(grid(70000, 65535)).toEqual([65535, 2, 1]);
    expect(() => grid(65535 * 65536, 65535)).toThrow(/dispatch limit/);
  });
});

describe.skipIf(!backend)('webgpu runtime', () => {
  const b = backend!;
  afterAll(() => b.destroy());

  it('has no readSync, every fused kernel, no fallbacks', () => {
    expect((b as Backend).readSync).toBeUndefined();
    expect(b.capabilities.readSync).toBe(false);
    expect(b.capabilities.fallbacks).toEqual([]);
    expect(fusedKernels(b).sort()).toEqual(
      ['batchNormBackward', 'batchNormTrain', 'linear', 'softmaxCrossEntropy'].sort(),
    );
  });

  it('memory() counts live bytes exactly; disposed buffers go to the pool and are reused', () => {
    const before = b.memory();
    const x = b.alloc(10, 'float32');
    const y = b.alloc(0, 'int32');
    expect(b.memory().bytes - before.bytes).toBe(40);
    expect(b.memory().buffers - before.buffers).toBe(2);
    const pooledBefore = b.memory().pooledBytes;
    b.disposeBuffer(x);
    b.disposeBuffer(y);
    const after = b.memory();
    expect(after.bytes).toBe(before.bytes);
    expect(after.buffers).toBe(before.buffers);
    expect(after.pooledBytes - pooledBefore).toBe(sizeClass(40) + sizeClass(0));
    const again = b.alloc(9, 'float32'); // same size class as 10 elements: reused
    expect(b.memory().pooledBytes).toBe(after.pooledBytes - sizeClass(40));
    b.disposeBuffer(again);
    expect(() => b.disposeBuffer(again)).toThrow(/disposed/);
  });

  it('many ops are encoded into one submit, and one pipeline serves many sizes', async () => {
    const x = upload(b, [1, 2, 3]);
    const start = { ...b.stats };
    let cur = x;
    for (let i = 0; i < 20; i++) {
      const next = b.alloc(3, 'float32');
      pw(b, ADD, [view(cur, [1]), view(cur, [1])], next, [3]);
      if (cur !== x) b.disposeBuffer(cur);
      cur = next;
    }
    expect(b.stats.submits).toBe(start.submits); // nothing submitted before the read
    expect(await readBack(b, cur)).toEqual([1, 2, 3].map((v) => v * 2 ** 20));
    expect(b.stats.submits).toBe(start.submits + 1);
    const pipelines = b.stats.pipelines;
    for (const n of [5, 77, 1000]) {
      const a = b.alloc(n, 'float32');
      b.kernels.fill({ out: a, value: 2 });
      const o = b.alloc(n, 'float32');
      pw(b, ADD, [view(a, [1]), view(a, [1])], o, [n]);
      expect((await readBack(b, o)).every((v) => v === 4)).toBe(true);
    }
    expect(b.stats.pipelines - pipelines).toBeLessThanOrEqual(1); // at most the float32 fill, compiled once
  });

  it('a write into a reused buffer lands after pending kernels that used the buffer before', async () => {
    const a = upload(b, [1, 2, 3, 4]);
    const out = b.alloc(4, 'float32');
    pw(b, NEG, [view(a, [1])], out, [4]); // pending, reads a
    b.disposeBuffer(a);
    const c = b.alloc(4, 'float32'); // gets a's GPU buffer back from the pool
    b.write(c, Float32Array.from([9, 9, 9, 9]));
    expect(await readBack(b, out)).toEqual([-1, -2, -3, -4]);
    expect(await readBack(b, c)).toEqual([9, 9, 9, 9]);
  });

  it('an output that aliases an input is bound once, read_write, and read before it is written', async () => {
    const a = upload(b, [1, 2, 3, 4]);
    const m = upload(b, [10, 20, 30, 40]);
    const sq = b.alloc(4, 'float32');
    const step = pointwiseProgram('t-inplace', {
      inputs: ['float32', 'float32'],
      scalars: ['float32'],
      outputs: [E.add(E.input(0), E.mul(E.scalar(0), E.input(1))), E.mul(E.input(0), E.input(0))],
    });
    // a <- a + 0.5 m and sq <- a * a (the old a) in one pass, in place on a.
    pw(b, step, [view(a, [2, 1]), view(m, [2, 1])], [a, sq], [2, 2], [0.5]);
    expect(await readBack(b, a)).toEqual([6, 12, 18, 24]);
    expect(await readBack(b, sq)).toEqual([1, 4, 9, 16]);
    // A reversed read of the buffer being written would race: refused, not copied silently.
    expect(() => pw(b, ADD, [view(a, [-1], 3), view(a, [1])], a, [4])).toThrow(/identity view/);
  });

  it('a program binding more buffers than the device allows is a clear error before dispatch', () => {
    const n = (b as unknown as { device: GPUDevice }).device.limits.maxStorageBuffersPerShaderStage;
    const inputs = Array.from({ length: n }, () => 'float32' as const);
    const sum = pointwiseProgram('t-wide', {
      inputs,
      outputs: [inputs.map((_, k) => E.input(k)).reduce((acc, x) => E.add(acc, x))],
    });
    const bufs = inputs.map(() => upload(b, [1]));
    const dispatches = b.stats.dispatches;
    expect(() =>
      pw(
        b,
        sum,
        bufs.map((x) => view(x, [1])),
        b.alloc(1, 'float32'),
        [1],
      ),
    ).toThrow(new RegExp(`binds ${n + 1} distinct buffers; this device allows ${n}`));
    expect(b.stats.dispatches).toBe(dispatches);
  });

  it('zero-size buffers read back empty', async () => {
    const z = b.alloc(0, 'float32');
    expect(Array.from(await b.read(z))).toEqual([]);
    pw(b, prog('exp', 1, E.exp), [view(z, [1])], z, [0]);
  });

  it('errors name the problem: wrong dtype write, oversize write, disposed buffer', () => {
    const f = b.alloc(2, 'float32');
    expect(() => b.write(f, Int32Array.from([1, 2]))).toThrow(/Int32Array into a float32/);
    expect(() => b.write(f, Float32Array.from([1, 2, 3]))).toThrow(/3 elements into a buffer of 2/);
    b.disposeBuffer(f);
    expect(() => b.kernels.fill({ out: f, value: 1 })).toThrow(/disposed/);
  });
});

describe.skipIf(!backend)('webgpu dispatch limits and device loss', () => {
  it('takes the 2D dispatch path when the per-dimension limit is small', async () => {
    const small = (await openBackend({ maxWorkgroupsPerDimension: 3 }))!;
    const n = 256 * 5 + 3; // 6 workgroups -> a 3 x 2 grid
    const xs = Array.from({ length: n }, (_, i) => i);
    const x = upload(small, xs);
    const out = small.alloc(n, 'float32');
    pw(small, NEG, [view(x, [1])], out, [n]);
    expect(await readBack(small, out)).toEqual(xs.map((v) => -v));
    const r = small.alloc(5, 'float32'); // 5 workgroup-per-output reductions in a 3 x 2 grid
    small.kernels.reduce({ op: 'sum', x, out: r, outer: 5, size: 100, inner: 1 });
    const sums = await readBack(small, r);
    expect(sums).toEqual([0, 1, 2, 3, 4].map((o) => 100 * o * 100 + 4950));
    small.destroy();
  });

  it('a lost device is reported as a clear error on the next op', async () => {
    let lost = '';
    const doomed = (await openBackend({
      onDeviceLost: (m) => {
        lost = m;
      },
    }))!;
    const x = doomed.alloc(4, 'float32');
    const other = (await openBackend())!;
    expect(() => other.kernels.fill({ out: x, value: 1 })).toThrow(/another WebGPU device/);
    other.destroy();
    (doomed as unknown as { device: GPUDevice }).device.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect(lost).toMatch(/destroyed/);
    expect(() => doomed.kernels.fill({ out: x, value: 1 })).toThrow(
      /device was lost .*'fill'.*resetWebGpuBackend/,
    );
  });
});
