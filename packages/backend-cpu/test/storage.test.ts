import { fusedKernels } from '@nabla/core';
import { matmulArgs } from '@nabla/test-kit';
import { describe, expect, it } from 'vitest';
import { createCpuBackend } from '../src/backend.js';

describe('cpu storage', () => {
  it('allocates, writes, reads back copies and counts memory exactly', async () => {
    const be = createCpuBackend();
    expect(be.memory()).toEqual({ buffers: 0, bytes: 0 });
    const a = be.alloc(5, 'float32');
    const b = be.alloc(3, 'int32');
    const z = be.alloc(0, 'float32');
    expect(be.memory()).toEqual({ buffers: 3, bytes: 32 });
    be.write(a, new Float32Array([1, 2, 3, 4, 5]));
    be.write(b, new Int32Array([7, -8]));
    const ra = await be.read(a);
    expect(ra).toBeInstanceOf(Float32Array);
    expect(Array.from(ra)).toEqual([1, 2, 3, 4, 5]);
    ra[0] = 99; // a copy: the buffer is untouched
    expect(be.readSync(a)[0]).toBe(1);
    expect(be.readSync(b)).toBeInstanceOf(Int32Array);
    expect(Array.from(be.readSync(b)).slice(0, 2)).toEqual([7, -8]);
    expect(be.readSync(z).length).toBe(0);
    be.kernels.fill({ out: b, value: 3 });
    expect(Array.from(be.readSync(b))).toEqual([3, 3, 3]);
    be.disposeBuffer(a);
    expect(be.memory()).toEqual({ buffers: 2, bytes: 12 });
    be.disposeBuffer(b);
    be.disposeBuffer(z);
    expect(be.memory()).toEqual({ buffers: 0, bytes: 0 });
  });

  it('reports what it can do', () => {
    const be = createCpuBackend();
    expect(be.name).toBe('cpu');
    expect(be.capabilities.readSync).toBe(true);
    expect(be.capabilities.fallbacks).toEqual([]);
    expect(fusedKernels(be).sort()).toEqual(
      ['batchNormBackward', 'batchNormTrain', 'linear', 'softmaxCrossEntropy'].sort(),
    );
  });

  it('fails clearly on misuse', () => {
    const be = createCpuBackend();
    const a = be.alloc(2, 'float32');
    expect(() => be.write(a, new Float32Array(3))).toThrow(/3 elements do not fit a buffer of 2/);
    expect(() => be.write(a, new Int32Array(2))).toThrow(/Int32Array data into a float32 buffer/);
    be.disposeBuffer(a);
    expect(() => be.readSync(a)).toThrow(/disposed/);
    expect(() => be.disposeBuffer(a)).toThrow(/disposed/);
    expect(be.memory()).toEqual({ buffers: 0, bytes: 0 });
    expect(() => be.alloc(-1, 'float32')).toThrow(/cannot allocate -1/);
    expect(() => be.alloc(2, 'float64' as any)).toThrow(/unsupported dtype 'float64'/);
    const foreign = { size: 2, dtype: 'float32' as const };
    expect(() => be.readSync(foreign)).toThrow(/not a cpu buffer/);
    const i = be.alloc(4, 'int32');
    const f = be.alloc(4, 'float32');
    expect(() => be.kernels.matmul(matmulArgs(i, f, f, { m: 2, n: 2, k: 2 }))).toThrow(
      /matmul A .* must be float32, got int32/,
    );
    expect(() => be.kernels.reduce({ op: 'sum', x: f, out: f, outer: 1, size: 5, inner: 1 })).toThrow(
      /cpu backend: reduce sum: input holds 4 elements, \[1, 5, 1\] needs 5/,
    );
  });
});
