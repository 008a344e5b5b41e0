/** Sizes checked before work (issue 19 item 4): creation ops refuse impossible shapes at once. */
import * as nb from '@nabla/core';
import { describe, expect, it } from 'vitest';
import { expectNoChange } from './unchanged.js';

/** Registers the size cases; `name` is the backend under test (active while they run). */
export function sizeSuite(name: string): void {
  describe('sizes checked before work', () => {
    it('memory() reports the reserved size beside the live bytes (the wasm heap does not shrink)', () => {
      const before = nb.memory().backends[name];
      const big = nb.zeros([8 * 1024 * 1024]); // 32 MiB
      const during = nb.memory().backends[name];
      big.dispose();
      const after = nb.memory().backends[name];
      expect(during.bytes - before.bytes).toBe(32 * 1024 * 1024);
      expect(after.bytes).toBe(before.bytes);
      if (name === 'wasm') {
        expect(during.reservedBytes).toBeGreaterThanOrEqual(during.bytes);
        expect(after.reservedBytes).toBe(during.reservedBytes); // freed inside the heap, not returned
      } else {
        expect(after.reservedBytes).toBeUndefined();
      }
    });

    it('randn([3e9]) and friends fail at once with the same message on every backend', async () => {
      const started = performance.now();
      const tooMany = (op: string, dtype = 'float32', gib = '11.2') =>
        `${op}: shape [3000000000] has 3000000000 elements (${gib} GiB of ${dtype}); a tensor holds at most 2147483647 elements`;
      await expectNoChange([], () => nb.randn([3e9]), tooMany('randn'), RangeError);
      await expectNoChange([], () => nb.rand([3e9]), tooMany('rand'), RangeError);
      await expectNoChange([], () => nb.randint(0, 3, [3e9]), tooMany('randint', 'int32'), RangeError);
      await expectNoChange([], () => nb.zeros([3e9]), tooMany('zeros'), RangeError);
      await expectNoChange([], () => nb.ones([3e9]), tooMany('ones'), RangeError);
      await expectNoChange([], () => nb.full([3e9], 2), tooMany('full'), RangeError);
      await expectNoChange([], () => nb.arange(3e9), tooMany('arange', 'int32'), RangeError);
      await expectNoChange(
        [],
        () => nb.eye(60000, 50000),
        'eye: shape [60000, 50000] has 3000000000 elements (11.2 GiB of float32)',
        RangeError,
      );
      expect(performance.now() - started).toBeLessThan(2000); // no work was done
    });
  });
}
