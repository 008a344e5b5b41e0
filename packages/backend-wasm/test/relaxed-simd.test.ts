import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../src/backend.js';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

describe('relaxed SIMD build', () => {
  it('is chosen only where the engine validates it; forcing it elsewhere names the reason', async () => {
    const be = await createWasmBackend({ threads: 1, warmup: false });
    // plain Node 20 has no relaxed SIMD without a flag
    expect(be.capabilities.info?.relaxedSimd).toBe(false);
    be.destroy();
    await expect(createWasmBackend({ threads: 1, relaxedSimd: true })).rejects.toThrow(
      /relaxed-SIMD kernels/,
    );
  });

  // The relaxed build runs only under --experimental-wasm-relaxed-simd, so it is checked in a
  // child process against the built bundle (run `npm run build` first).
  it.skipIf(!existsSync(dist))(
    'computes the same matmul with f32x4.relaxed_madd (child Node with the flag)',
    () => {
      const code = `
      const { createWasmBackend } = await import(${JSON.stringify(dist)});
      const out = {};
      for (const relaxedSimd of [true, false]) {
        const be = await createWasmBackend({ threads: 2, relaxedSimd });
        const [m, n, k] = [37, 45, 300];
        const a = be.alloc(m * k, 'float32'), b = be.alloc(n * k, 'float32'), c = be.alloc(m * n, 'float32');
        be.write(a, Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)));
        be.write(b, Float32Array.from({ length: n * k }, (_, i) => Math.cos(i)));
        be.matmul(a, b, c, { batch: 1, m, n, k, transA: false, transB: true, strideA: 0, strideB: 0 });
        out[relaxedSimd] = { info: be.capabilities.info.relaxedSimd, c: Array.from(be.readSync(c)) };
        be.destroy();
      }
      console.log(JSON.stringify(out));`;
      const res = JSON.parse(
        execFileSync(
          process.execPath,
          ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', code],
          {
            encoding: 'utf8',
          },
        ),
      );
      expect(res.true.info).toBe(true);
      expect(res.false.info).toBe(false);
      const [r, s] = [res.true.c as number[], res.false.c as number[]];
      expect(r.length).toBe(37 * 45);
      for (let i = 0; i < r.length; i++)
        expect(Math.abs((r[i] as number) - (s[i] as number))).toBeLessThan(1e-3);
    },
  );
});
