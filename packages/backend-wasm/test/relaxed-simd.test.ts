import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWasmBackend } from '../src/backend.js';

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const coreDist = fileURLToPath(new URL('../../core/dist/index.js', import.meta.url));

/**
 * Runs module code in a child Node with --experimental-wasm-relaxed-simd (the relaxed build needs
 * the flag), with `createWasmBackend` imported from the built bundle; the code prints one JSON
 * value, returned parsed.
 */
function runWithRelaxedSimd(code: string): unknown {
  const module = `const { createWasmBackend } = await import(${JSON.stringify(dist)});\n${code}`;
  const args = ['--experimental-wasm-relaxed-simd', '--input-type=module', '-e', module];
  return JSON.parse(execFileSync(process.execPath, args, { encoding: 'utf8' }));
}

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
      const out = {};
      for (const relaxedSimd of [true, false]) {
        const be = await createWasmBackend({ threads: 2, relaxedSimd });
        const [m, n, k] = [37, 45, 300];
        const a = be.alloc(m * k, 'float32'), b = be.alloc(n * k, 'float32'), c = be.alloc(m * n, 'float32');
        be.write(a, Float32Array.from({ length: m * k }, (_, i) => Math.sin(i)));
        be.write(b, Float32Array.from({ length: n * k }, (_, i) => Math.cos(i)));
        be.kernels.matmul({ a, b, out: c, batch: 1, m, n, k, transA: false, transB: true, strideA: 0, strideB: 0 });
        out[relaxedSimd] = { info: be.capabilities.info.relaxedSimd, c: Array.from(be.readSync(c)) };
        be.destroy();
      }
      console.log(JSON.stringify(out));`;
      const res = runWithRelaxedSimd(code) as Record<'true' | 'false', { info: boolean; c: number[] }>;
      expect(res.true.info).toBe(true);
      expect(res.false.info).toBe(false);
      const [r, s] = [res.true.c as number[], res.false.c as number[]];
      expect(r.length).toBe(37 * 45);
      for (let i = 0; i < r.length; i++)
        expect(Math.abs((r[i] as number) - (s[i] as number))).toBeLessThan(1e-3);
    },
  );

  it.skipIf(!existsSync(dist) || !existsSync(coreDist))(
    'computes the same pointwise programs, compiled and interpreted (child Node with the flag)',
    () => {
      const code = `
      const { E, pointwiseProgram } = await import(${JSON.stringify(coreDist)});
      const p = pointwiseProgram('relaxed_check', { inputs: ['float32', 'float32'], outputs: [
        E.add(E.mul(E.tanh(E.input(0)), E.input(1)), E.exp(E.neg(E.abs(E.input(1))))),
        E.select(E.gt(E.input(0), 0), E.cast(E.input(1), 'int32'), E.const(-1, 'int32')),
      ] });
      const out = [];
      for (const relaxedSimd of [true, false]) for (const jit of [true, false]) {
        const be = await createWasmBackend({ threads: 1, relaxedSimd, jit });
        const n = 1001;
        const a = be.alloc(n, 'float32'), b = be.alloc(n, 'float32');
        be.write(a, Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 3));
        be.write(b, Float32Array.from({ length: n }, (_, i) => Math.cos(i) * 40));
        const o = [be.alloc(n, 'float32'), be.alloc(n, 'int32')];
        be.kernels.pointwise({ program: p, inputs: [a, b].map((buffer) => ({ buffer, offset: 0, strides: [1] })), scalars: [], outputs: o, shape: [n] });
        out.push({ relaxed: be.capabilities.info.relaxedSimd, values: o.map((x) => Array.from(be.readSync(x))) });
        be.destroy();
      }
      console.log(JSON.stringify(out));`;
      const res = runWithRelaxedSimd(code) as { relaxed: boolean; values: number[][] }[];
      expect(res.map((r) => r.relaxed)).toEqual([true, true, false, false]);
      // no relaxed instruction in these programs: every build and path gives the same bits
      for (const r of res.slice(1)) expect(r.values).toEqual(res[0]!.values);
    },
  );
});
