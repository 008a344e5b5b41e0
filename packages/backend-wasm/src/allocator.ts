/**
 * A size-class allocator over one `WebAssembly.Memory`. Blocks are 16-byte aligned and their
 * sizes rounded up to a class (multiples of 64 bytes up to 4 KiB, then eight classes per
 * power of two, so at most 12.5% is lost to rounding). Freed blocks go on their class's free
 * list (a stack: the most recently freed, cache-warm block is reused first) and are reused
 * before the bump pointer moves; a freed block that ends at the top of the heap is handed back
 * to the bump pointer, together with any free blocks below it, so the heap also shrinks.
 * A block folded into the bump region stays on its stack as a stale entry, skipped when popped
 * (`freeByEnd` is the truth about which blocks are free): no search on the hot path.
 * Growth failure throws an out-of-memory error naming the request.
 */
export class Allocator {
  private top: number;
  private readonly freeLists = new Map<number, number[]>();
  /** Free blocks keyed by their end address, to return runs of them to the bump pointer. */
  private readonly freeByEnd = new Map<number, number>();
  /**
   * Where allocations came from: `reused` a block from its size class's free list, `fresh` the
   * bump pointer (no free block of that class), `grows` times the memory had to grow.
   */
  readonly stats = { reused: 0, fresh: 0, grows: 0 };

  /**
   * @param memory the linear memory to carve up
   * @param base first byte the allocator may hand out (after the module's stack and statics)
   * @param maxPages the memory's declared maximum, in 64 KiB pages
   * @param onGrow called after the memory grew, so views can be re-created
   */
  constructor(
    private readonly memory: WebAssembly.Memory,
    base: number,
    private readonly maxPages: number,
    private readonly onGrow: () => void,
  ) {
    this.top = roundUp(base, 64);
    this.capacity = memory.buffer.byteLength;
  }

  /** Bytes of linear memory now (cached: reading `memory.buffer` of a shared memory allocates). */
  private capacity: number;

  /** Bytes actually reserved for a request of `bytes` (its size class). */
  static classOf(bytes: number): number {
    if (bytes <= 4096) return Math.max(64, roundUp(bytes, 64));
    const step = 2 ** (Math.ceil(Math.log2(bytes)) - 3);
    return roundUp(bytes, step);
  }

  /** Returns a 16-byte aligned address with at least `bytes` usable bytes. */
  alloc(bytes: number): number {
    const cls = Allocator.classOf(bytes);
    const list = this.freeLists.get(cls);
    if (list !== undefined) {
      while (list.length > 0) {
        const ptr = list.pop() as number;
        // stale: folded into the bump region since it was freed (maybe reused and freed again)
        if (this.freeByEnd.get(ptr + cls) !== ptr) continue;
        this.freeByEnd.delete(ptr + cls);
        this.stats.reused++;
        return ptr;
      }
    }
    this.stats.fresh++;
    const ptr = this.top;
    this.ensure(ptr + cls, bytes);
    this.top = ptr + cls;
    return ptr;
  }

  /** Returns a block obtained from {@link alloc} with the same `bytes`. */
  free(ptr: number, bytes: number): void {
    const cls = Allocator.classOf(bytes);
    if (ptr + cls === this.top) {
      this.top = ptr;
      // fold free blocks that now touch the top back into the bump region
      for (let p = this.freeByEnd.get(this.top); p !== undefined; p = this.freeByEnd.get(this.top)) {
        this.freeByEnd.delete(this.top); // its stack entry is now stale
        this.top = p;
      }
      return;
    }
    let list = this.freeLists.get(cls);
    if (!list) {
      list = [];
      this.freeLists.set(cls, list);
    }
    list.push(ptr);
    this.freeByEnd.set(ptr + cls, ptr);
  }

  /** End of the bump region: bytes of linear memory in use or on free lists. */
  get heapTop(): number {
    return this.top;
  }

  private ensure(end: number, request: number): void {
    if (end <= this.capacity) return;
    const have = this.memory.buffer.byteLength;
    const pagesNow = have / 65536;
    const need = Math.ceil((end - have) / 65536);
    // grow geometrically (by at least a quarter) so a training loop does not grow per step
    const want = Math.min(this.maxPages - pagesNow, Math.max(need, Math.ceil(pagesNow / 4)));
    try {
      if (need > this.maxPages - pagesNow) throw new RangeError('above the declared maximum');
      try {
        this.memory.grow(want);
      } catch {
        this.memory.grow(need);
      }
    } catch (err) {
      throw new Error(
        `wasm backend: out of memory allocating ${request} bytes: linear memory is ${have} bytes ` +
          `(limit ${this.maxPages * 65536} bytes) and could not grow by ${need * 65536} bytes (${String(
            (err as Error).message ?? err,
          )}). Dispose tensors you no longer need, or use tidy().`,
      );
    }
    this.capacity = this.memory.buffer.byteLength;
    this.stats.grows++;
    this.onGrow();
  }
}

function roundUp(x: number, m: number): number {
  return Math.ceil(x / m) * m;
}
