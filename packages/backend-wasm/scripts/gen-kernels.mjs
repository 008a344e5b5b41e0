// Generates assembly/generated/reduce.ts and micro.ts: one template per kernel family,
// instantiated for every (op, dtype) or unrolling. Elementwise work is not generated here: it is
// pointwise programs (assembly/pointwise.ts and src/kernels/pointwise-jit.ts).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'assembly', 'generated');

const T = { f32: 'f32', i32: 'i32' };
const V = { f32: 'f32x4', i32: 'i32x4' };

/** Reductions: combine expression, SIMD combine, identity handled by seeding with the first row. */
const reduce = {
  sum: { f32: ['acc + x', 'f32x4.add(acc, x)'], i32: ['acc + x', 'i32x4.add(acc, x)'] },
  max: { f32: ['Mathf.max(acc, x)', 'f32x4.max(acc, x)'], i32: ['acc > x ? acc : x', 'i32x4.max_s(acc, x)'] },
  min: { f32: ['Mathf.min(acc, x)', 'f32x4.min(acc, x)'], i32: ['acc < x ? acc : x', 'i32x4.min_s(acc, x)'] },
};

/**
 * float32 sums keep their digits: a row is summed in blocks of 256 by 16 interleaved float32
 * partial sums (16 terms each), every block's total going into a float64 accumulator; a column
 * sum (over a strided axis, e.g. the batch) takes 16 columns at a time down the axis, eight rows
 * in float32 and then into float64 accumulators. The error stays that of a sum of 8-16 terms for
 * any length (a plain float32 sum of 1e6 values loses ~1e-4 relative in the worst case).
 */
function sumF32Kernel() {
  const promote = (a, v) =>
    `${a}0 = f64x2.add(${a}0, f64x2.promote_low_f32x4(${v})); ${a}1 = f64x2.add(${a}1, f64x2.promote_low_f32x4(v128.shuffle<f32>(${v}, ${v}, 2, 3, 2, 3)));`;
  return `
export function red_sum_f32(px: usize, po: usize, outer: i32, size: i32, count: i32, stride: i32): void {
  if (stride == 1) {
    for (let r = 0; r < outer; r++) {
      let total: f64 = 0;
      let i = 0;
      while (i + 16 <= size) {
        const end = min(size, i + 256) & ~15;
        let acc0 = f32x4.splat(0); let acc1 = acc0; let acc2 = acc0; let acc3 = acc0;
        for (; i < end; i += 16) {
          const p = px + (<usize>i << 2);
          acc0 = f32x4.add(acc0, v128.load(p)); acc1 = f32x4.add(acc1, v128.load(p, 16));
          acc2 = f32x4.add(acc2, v128.load(p, 32)); acc3 = f32x4.add(acc3, v128.load(p, 48));
        }
        const a = f32x4.add(f32x4.add(acc0, acc1), f32x4.add(acc2, acc3));
        total += <f64>((f32x4.extract_lane(a, 0) + f32x4.extract_lane(a, 1)) + (f32x4.extract_lane(a, 2) + f32x4.extract_lane(a, 3)));
      }
      for (; i < size; i++) total += <f64>load<f32>(px + (<usize>i << 2));
      store<f32>(po, <f32>total);
      px += <usize>size << 2;
      po += 4;
    }
    return;
  }
  for (let r = 0; r < outer; r++) {
    const xr = px + (<usize>r * <usize>size * <usize>stride << 2);
    const orow = po + (<usize>r * <usize>stride << 2);
    let j = 0;
    // blocks of 128 rows keep the block in cache while 16-column strips walk down it; a strip's
    // total is added to the output once per block (one float32 rounding per 128 rows)
    for (let q0 = 0; q0 < size; q0 += 128) {
      const qEnd = min(size, q0 + 128);
      j = 0;
      for (; j + 16 <= count; j += 16) {
        const o = orow + (<usize>j << 2);
        let a0 = f64x2.splat(0); let a1 = a0; let b0 = a0; let b1 = a0; let c0 = a0; let c1 = a0; let d0 = a0; let d1 = a0;
        if (q0 > 0) {
          const oa = v128.load(o); const ob = v128.load(o, 16); const oc = v128.load(o, 32); const od = v128.load(o, 48);
          ${promote('a', 'oa')} ${promote('b', 'ob')}
          ${promote('c', 'oc')} ${promote('d', 'od')}
        }
        let q = q0;
        while (q < qEnd) {
          // eight rows in float32 (at most 7 roundings), then into the float64 totals
          const end = min(qEnd, q + 8);
          let va = f32x4.splat(0); let vb = va; let vc = va; let vd = va;
          for (; q < end; q++) {
            const p = xr + ((<usize>q * <usize>stride + <usize>j) << 2);
            va = f32x4.add(va, v128.load(p)); vb = f32x4.add(vb, v128.load(p, 16));
            vc = f32x4.add(vc, v128.load(p, 32)); vd = f32x4.add(vd, v128.load(p, 48));
          }
          ${promote('a', 'va')} ${promote('b', 'vb')}
          ${promote('c', 'vc')} ${promote('d', 'vd')}
        }
        v128.store(o, f32x4.demote_f64x2_zero(a0)); v128.store64_lane(o, f32x4.demote_f64x2_zero(a1), 0, 8);
        v128.store(o, f32x4.demote_f64x2_zero(b0), 16); v128.store64_lane(o, f32x4.demote_f64x2_zero(b1), 0, 24);
        v128.store(o, f32x4.demote_f64x2_zero(c0), 32); v128.store64_lane(o, f32x4.demote_f64x2_zero(c1), 0, 40);
        v128.store(o, f32x4.demote_f64x2_zero(d0), 48); v128.store64_lane(o, f32x4.demote_f64x2_zero(d1), 0, 56);
      }
    }
    for (; j < count; j++) {
      let t: f64 = 0;
      for (let q = 0; q < size; q++) t += <f64>load<f32>(xr + ((<usize>q * <usize>stride + <usize>j) << 2));
      store<f32>(orow + (<usize>j << 2), <f32>t);
    }
  }
}
`;
}

function reduceKernel(op, dt) {
  if (op === 'sum' && dt === 'f32') return sumF32Kernel();
  const [s, v] = reduce[op][dt];
  const t = T[dt];
  const vt = V[dt];
  // Row reduction (inner == 1): four independent SIMD accumulators hide latency and, for
  // sums, split the row into 16 interleaved partial sums (less rounding than one serial sum).
  const zero = op === 'sum' ? `${vt}.splat(0)` : `${vt}.splat(load<${t}>(px))`;
  return `
export function red_${op}_${dt}(px: usize, po: usize, outer: i32, size: i32, count: i32, stride: i32): void {
  if (stride == 1) {
    for (let r = 0; r < outer; r++) {
      let i = 0;
      let acc0 = ${zero}; let acc1 = acc0; let acc2 = acc0; let acc3 = acc0;
      for (; i + 16 <= size; i += 16) {
        const p = px + (<usize>i << 2);
        let acc = acc0; let x_ = v128.load(p); acc0 = ${v.replace(/\bx\b/g, 'x_')};
        acc = acc1; x_ = v128.load(p, 16); acc1 = ${v.replace(/\bx\b/g, 'x_')};
        acc = acc2; x_ = v128.load(p, 32); acc2 = ${v.replace(/\bx\b/g, 'x_')};
        acc = acc3; x_ = v128.load(p, 48); acc3 = ${v.replace(/\bx\b/g, 'x_')};
      }
      { let acc = acc0; let x_ = acc1; acc0 = ${v.replace(/\bx\b/g, 'x_')}; acc = acc2; x_ = acc3; acc2 = ${v.replace(/\bx\b/g, 'x_')};
        acc = acc0; x_ = acc2; acc0 = ${v.replace(/\bx\b/g, 'x_')}; }
      let acc: ${t} = ${vt}.extract_lane(acc0, 0);
      { let x = ${vt}.extract_lane(acc0, 1); acc = ${s}; x = ${vt}.extract_lane(acc0, 2); acc = ${s}; x = ${vt}.extract_lane(acc0, 3); acc = ${s}; }
      for (; i < size; i++) { const x = load<${t}>(px + (<usize>i << 2)); acc = ${s}; }
      store<${t}>(po, acc);
      px += <usize>size << 2;
      po += 4;
    }
    return;
  }
  // Column reduction: seed the output row with the first input row, then fold the others in.
  for (let r = 0; r < outer; r++) {
    const xr = px + (<usize>r * <usize>size * <usize>stride << 2);
    const orow = po + (<usize>r * <usize>stride << 2);
    if (size == 0) { for (let j = 0; j < count; j++) store<${t}>(orow + (<usize>j << 2), 0); continue; }
    memory.copy(orow, xr, <usize>count << 2);
    for (let q = 1; q < size; q++) {
      const xq = xr + (<usize>q * <usize>stride << 2);
      let j = 0;
      for (; j + 4 <= count; j += 4) {
        const acc = v128.load(orow + (<usize>j << 2)); const x = v128.load(xq + (<usize>j << 2));
        v128.store(orow + (<usize>j << 2), ${v});
      }
      for (; j < count; j++) {
        const acc = load<${t}>(orow + (<usize>j << 2)); const x = load<${t}>(xq + (<usize>j << 2));
        store<${t}>(orow + (<usize>j << 2), ${s});
      }
    }
  }
}
`;
}

function argKernel(op, dt) {
  const t = T[dt];
  const better = op === 'argmax' ? '>' : '<';
  // First occurrence wins ties; a NaN wins over numbers (and the first NaN over later ones).
  const beats = dt === 'f32' ? `(x ${better} best || (x != x && best == best))` : `x ${better} best`;
  return `
export function red_${op}_${dt}(px: usize, po: usize, outer: i32, size: i32, count: i32, stride: i32): void {
  for (let r = 0; r < outer; r++) {
    const xr = px + (<usize>r * <usize>size * <usize>stride << 2);
    for (let j = 0; j < count; j++) {
      let best = load<${t}>(xr + (<usize>j << 2)); let bi = 0;
      for (let q = 1; q < size; q++) {
        const x = load<${t}>(xr + ((<usize>q * <usize>stride + <usize>j) << 2));
        if (${beats}) { best = x; bi = q; }
      }
      store<i32>(po + ((<usize>r * <usize>stride + <usize>j) << 2), bi);
    }
  }
}
`;
}

mkdirSync(outDir, { recursive: true });

// The sgemm micro-kernel: a 4×8 tile in eight f32x4 accumulators. Its depth loop is left
// rolled: V8 unrolls it once inlined (see the doc comment below); unrolled here by hand, V8
// scheduled all loads first and spilled accumulators (27 against 45 GFLOP/s, one thread).
const step = `
    const b0 = v128.load(pb), b1 = v128.load(pb, 16);
    let a = v128.load32_splat(pa); c00 = madd(a, b0, c00); c01 = madd(a, b1, c01);
    a = v128.load32_splat(pa, 4); c10 = madd(a, b0, c10); c11 = madd(a, b1, c11);
    a = v128.load32_splat(pa, 8); c20 = madd(a, b0, c20); c21 = madd(a, b1, c21);
    a = v128.load32_splat(pa, 12); c30 = madd(a, b0, c30); c31 = madd(a, b1, c31);`;
writeFileSync(
  join(outDir, 'micro.ts'),
  `// GENERATED by scripts/gen-kernels.mjs — do not edit.
import { madd, storeRow } from '../tile';

/**
 * The 4×8 micro-kernel: eight f32x4 accumulators (4 rows × 2 vectors) stay in registers
 * across the whole depth; each step loads one B row pair and splats four A values.
 * The tile goes to c (row stride ldc bytes): the real C, or an 8-wide edge buffer.
 * Inlined into sgemm's loop nest, where V8 unrolls the depth loop 4× and hoists its address
 * arithmetic; called as a function of its own it did neither (single thread, W1's products:
 * 38.5 → 45.8 GFLOP/s).
 */
// @ts-ignore: decorator
@inline export function micro(pa: usize, pb: usize, kc: i32, c: usize, ldc: usize, first: bool, last: bool, bias: usize, relu: bool): void {
  let c00 = f32x4.splat(0), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00;
  for (let p = 0; p < kc; p++) {${step}
    pa += 16;
    pb += 32;
  }
  storeRow(c, c00, c01, first, last, bias, relu);
  storeRow(c + ldc, c10, c11, first, last, bias, relu);
  storeRow(c + 2 * ldc, c20, c21, first, last, bias, relu);
  storeRow(c + 3 * ldc, c30, c31, first, last, bias, relu);
}
`,
);

let red = '// GENERATED by scripts/gen-kernels.mjs — do not edit.\n';
for (const op of Object.keys(reduce)) for (const dt of ['f32', 'i32']) red += reduceKernel(op, dt);
for (const op of ['argmax', 'argmin']) for (const dt of ['f32', 'i32']) red += argKernel(op, dt);
writeFileSync(join(outDir, 'reduce.ts'), red);
