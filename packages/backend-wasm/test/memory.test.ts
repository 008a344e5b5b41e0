import { describe, expect, it } from 'vitest';
import { Allocator } from '../src/allocator.js';
import { createWasmBackend } from '../src/backend.js';

describe('allocator', () => {
  const make = (maxPages = 4) => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: maxPages });
    let grows = 0;
    const a = new Allocator(memory, 1024, maxPages, () => grows++);
    return { a, memory, grows: () => grows };
  };

  it('aligns to 16 bytes and rounds to size classes', () => {
    const { a } = make();
    expect(Allocator.classOf(1)).toBe(64);
    expect(Allocator.classOf(4096)).toBe(4096);
    expect(Allocator.classOf(4097)).toBe(5120); // eight classes per power of two
    const p = a.alloc(10);
    const q = a.alloc(100);
    expect(p % 16).toBe(0);
    expect(q % 16).toBe(0);
    expect(q - p).toBe(64);
  });

  it('reuses a freed block of the same class and returns top blocks to the bump pointer', () => {
    const { a } = make();
    const p = a.alloc(1000);
    const q = a.alloc(1000);
    const r = a.alloc(200);
    a.free(p, 1000);
    expect(a.alloc(990)).toBe(p); // same class: reused
    const top = a.heapTop;
    a.free(q, 1000); // not at the top: free list
    expect(a.heapTop).toBe(top);
    a.free(r, 200); // at the top: folds q back in too
    expect(a.heapTop).toBe(q);
  });

  it('reuses the most recently freed block first and skips entries folded into the top', () => {
    const { a } = make();
    const [p, q, r, s] = [a.alloc(100), a.alloc(100), a.alloc(100), a.alloc(100)];
    a.free(p, 100);
    a.free(q, 100);
    expect(a.alloc(100)).toBe(q); // last in, first out
    a.free(q, 100);
    a.free(s, 100); // at the top: folds back to s only (r is live)
    a.free(r, 100); // now r, q and p fold back too: their stack entries are stale
    expect(a.heapTop).toBe(p);
    const before = { ...a.stats };
    expect(a.alloc(100)).toBe(p); // stale entries skipped: a fresh block from the bump pointer
    expect(a.alloc(100)).toBe(q);
    expect(a.stats.fresh - before.fresh).toBe(2);
    expect(a.stats.reused - before.reused).toBe(0);
  });

  it('grows the memory and calls back so views can be re-created', () => {
    const { a, memory, grows } = make(8);
    a.alloc(100_000);
    expect(memory.buffer.byteLength).toBeGreaterThanOrEqual(100_000 + 1024);
    expect(grows()).toBe(1);
  });

  it('throws a clear out-of-memory error naming the request', () => {
    const { a } = make(2);
    expect(() => a.alloc(1_000_000)).toThrow(/out of memory allocating 1000000 bytes/);
  });
});

describe('wasm backend storage', () => {
  it('memory() is exact, dispose returns memory, a loop stays flat', async () => {
    const be = await createWasmBackend({ threads: 1 });
    const base = be.memory();
    expect(base).toMatchObject({ buffers: 0, bytes: 0 });
    const a = be.alloc(10, 'float32');
    const b = be.alloc(3, 'int32');
    expect(be.memory()).toMatchObject({ buffers: 2, bytes: 52 });
    be.disposeBuffer(a);
    expect(be.memory()).toMatchObject({ buffers: 1, bytes: 12 });
    be.disposeBuffer(b);
    const heap = be.heapBytes;
    for (let step = 0; step < 200; step++) {
      const bufs = [1000, 37, 4096, 12345, 1000].map((n) => be.alloc(n, 'float32'));
      for (const x of bufs.reverse()) be.disposeBuffer(x);
    }
    expect(be.memory()).toMatchObject({ buffers: 0, bytes: 0 });
    expect(be.heapBytes).toBe(heap);
    be.destroy();
  });

  it('write/read round-trip across memory growth, with dtype and size checks', async () => {
    const be = await createWasmBackend({ threads: 2 });
    const small = be.alloc(4, 'int32');
    be.write(small, Int32Array.from([1, -2, 3, 2147483647]));
    const big = be.alloc(8 << 20, 'float32'); // 32 MiB: forces growth
    be.kernels.fill({ out: big, value: 1.5 });
    expect(Array.from(be.readSync(small))).toEqual([1, -2, 3, 2147483647]); // views re-created
    const r = be.readSync(big);
    expect(r.length).toBe(8 << 20);
    expect(r[r.length - 1]).toBe(1.5);
    expect(r.buffer).not.toBeInstanceOf(SharedArrayBuffer);
    expect(Array.from(await be.read(small))).toEqual([1, -2, 3, 2147483647]);
    expect(() => be.write(small, new Int32Array(5))).toThrow(/writing 5 elements into a buffer of 4/);
    be.disposeBuffer(big);
    expect(() => be.readSync(big)).toThrow(/disposed/);
    be.disposeBuffer(small);
    be.destroy();
    expect(() => be.alloc(1, 'float32')).toThrow(/after destroy/);
  });

  it('an allocation beyond the 4 GiB wasm32 limit is a clear out-of-memory error', async () => {
    const be = await createWasmBackend({ threads: 1, warmup: false });
    expect(() => be.alloc(2 ** 30, 'float32')).toThrow(/out of memory allocating 4294967296 bytes/);
    expect(be.memory()).toMatchObject({ buffers: 0, bytes: 0 });
    be.destroy();
  });

  it('reports threads and why', async () => {
    const one = await createWasmBackend({ threads: 1, warmup: false });
    expect(one.capabilities.info).toMatchObject({ threads: 1, simd: true, sharedMemory: false });
    expect(String(one.capabilities.info?.threadsReason)).toMatch(/requested/);
    one.destroy();
    const two = await createWasmBackend({ threads: 2 });
    expect(two.capabilities.info).toMatchObject({ threads: 2, sharedMemory: true });
    expect(typeof two.kernels.batchNormTrain).toBe('function');
    two.destroy();
    await expect(createWasmBackend({ threads: 0 })).rejects.toThrow(/positive integer/);
  });
});
