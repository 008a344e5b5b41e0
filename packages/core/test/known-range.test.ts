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

  it("counts a 'mean' cross-entropy's rows without a reduction when no target can be ignored, same bits", async () => {
    await nb.setBackend('cpu');
    const logits = nb.tensor([0.3, -1.2, 2.5, 0.7, 1.1, -0.4, 0.9, 2.2, -3, 0.1, 0.5, 0.5], {
      shape: [4, 3],
      requiresGrad: true,
    });
    const run = (targets: nb.Tensor, ignoreIndex: number) => {
      const counter = nb.countBackendCalls(nb.getBackend());
      const loss = nb.softmaxCrossEntropy(logits, targets, { ignoreIndex, reduction: 'mean' });
      const reduces = counter.snapshot().byMethod.reduce ?? 0;
      counter.stop();
      loss.backward();
      const out = { loss: loss.dataSync()[0], grad: [...logits.grad!.dataSync()], reduces };
      loss.dispose();
      logits.zeroGrad();
      return out;
    };
    const host = nb.tensor(new Int32Array([2, 0, 1, 2])); // range [0, 2]
    const computed = nb.tidy(() => host.add(0)); // same values, no known range
    const fast = run(host, -100);
    const counted = run(computed, -100);
    expect(fast.reduces).toBe(counted.reduces - 1); // the count is a fill
    expect(fast.loss).toBe(counted.loss);
    expect(fast.grad).toEqual(counted.grad);
    // ignoreIndex inside the known range: some row may be ignored, so the rows are counted
    const ignoring = run(host, 0);
    const ignoringComputed = run(computed, 0);
    expect(ignoring.reduces).toBe(ignoringComputed.reduces);
    expect(ignoring.loss).toBe(ignoringComputed.loss);
    for (const t of [logits, host, computed]) t.dispose();
  });
});
