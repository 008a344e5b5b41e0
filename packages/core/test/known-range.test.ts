/**
 * Index checks without a read-back: an int32 tensor uploaded from the host carries its value
 * range, so a gather or a cross-entropy over it reads nothing back while the range is known,
 * and any in-place write (eager, or a compiled replay writing its argument) makes the check
 * read the values again.
 */
import '@nabla/backend-cpu';
import * as nb from '@nabla/core';
import { describe, expect, it } from 'vitest';

const reads = (s: nb.BackendCallCounts) => (s.byMethod.readSync ?? 0) + (s.byMethod.read ?? 0);

/** Runs `fn` under a call counter and returns how many reads it made. */
function readsDuring(fn: () => void): number {
  const counter = nb.countBackendCalls(nb.getBackend());
  try {
    fn();
    return reads(counter.snapshot());
  } finally {
    counter.stop();
  }
}

describe('known index ranges', () => {
  it('skips the read-back for host-uploaded indices in range, reads otherwise', async () => {
    await nb.setBackend('cpu');
    const x = nb.tensor([10, 20, 30]);
    const idx = nb.tensor(new Int32Array([2, 0, 1]));
    expect(readsDuring(() => nb.tidy(() => nb.gather(x, 0, idx)))).toBe(0);
    // Out of the range this op allows: the check reads the values and names the position.
    expect(() => nb.gather(x, 0, nb.tensor(new Int32Array([0, 3])))).toThrow(/index 3 at position 1/);
    // A computed index has no known range: it is read back and checked.
    const computed = nb.tidy(() => idx.add(0));
    expect(readsDuring(() => nb.tidy(() => nb.gather(x, 0, computed)))).toBe(1);
    for (const t of [x, idx, computed]) t.dispose();
  });

  it('forgets the range on an in-place write', async () => {
    await nb.setBackend('cpu');
    const x = nb.tensor([10, 20, 30]);
    const idx = nb.tensor(new Int32Array([0, 1]));
    const bad = nb.tensor(new Int32Array([0, 7]));
    idx.assign(bad);
    expect(() => nb.gather(x, 0, idx)).toThrow(/index 7 at position 1/);
    for (const t of [x, idx, bad]) t.dispose();
  });

  it('forgets the range of an argument a compiled call writes in place', async () => {
    await nb.setBackend('cpu');
    const x = nb.tensor([10, 20, 30]);
    const overwrite = nb.compile((idx: nb.Tensor, src: nb.Tensor) => {
      idx.assign(src);
      return src.add(0);
    });
    const first = nb.tensor(new Int32Array([0, 1]));
    (overwrite(first, nb.tensor(new Int32Array([1, 2]))) as nb.Tensor).dispose();
    expect(overwrite.stats.captures).toBe(1);
    const idx = nb.tensor(new Int32Array([0, 1]));
    const src = nb.tensor(new Int32Array([2, 9]));
    const before = idx.version;
    (overwrite(idx, src) as nb.Tensor).dispose();
    expect(overwrite.stats.replays).toBe(1);
    expect(idx.version).toBeGreaterThan(before);
    expect(() => nb.gather(x, 0, idx)).toThrow(/index 9 at position 1/);
    for (const t of [x, first, idx, src]) t.dispose();
  });
});
