// Fill, where, gather and scatter-add: data movement kernels. Pointers are byte addresses.

/** Start of the memory the JavaScript allocator may hand out (after the stack and statics). */
export function heapBase(): usize {
  return __heap_base;
}

/** Fills `n` 4-byte elements with the bit pattern `bits` (a float32 or int32 value). */
export function fill32(o: usize, n: i32, bits: i32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), v);
  for (; i < n; i++) store<i32>(o + (<usize>i << 2), bits);
}

/** `out = cond != 0 ? a : b` over a strided 4-D shape; 4-byte elements of either dtype. */
export function where32(
  c: usize, a: usize, b: usize, o: usize,
  d0: i32, d1: i32, d2: i32, d3: i32,
  c0: i32, c1: i32, c2: i32, c3: i32,
  a0: i32, a1: i32, a2: i32, a3: i32,
  b0: i32, b1: i32, b2: i32, b3: i32,
): void {
  for (let i0 = 0; i0 < d0; i0++) for (let i1 = 0; i1 < d1; i1++) for (let i2 = 0; i2 < d2; i2++) {
    const cp = c + (<usize>(i0 * c0 + i1 * c1 + i2 * c2) << 2);
    const ap = a + (<usize>(i0 * a0 + i1 * a1 + i2 * a2) << 2);
    const bp = b + (<usize>(i0 * b0 + i1 * b1 + i2 * b2) << 2);
    let i = 0;
    if (c3 == 1 && a3 == 1 && b3 == 1) {
      for (; i + 4 <= d3; i += 4) {
        const off = <usize>i << 2;
        const mask = i32x4.ne(v128.load(cp + off), i32x4.splat(0));
        v128.store(o + off, v128.bitselect(v128.load(ap + off), v128.load(bp + off), mask));
      }
    }
    for (; i < d3; i++) {
      const take = load<i32>(cp + (<usize>(i * c3) << 2)) != 0;
      store<i32>(o + (<usize>i << 2), take ? load<i32>(ap + (<usize>(i * a3) << 2)) : load<i32>(bp + (<usize>(i * b3) << 2)));
    }
    o += <usize>d3 << 2;
  }
}

/** `out[o, j, i] = x[o, index[o, j, i], i]`; 4-byte elements of either dtype. */
export function gather32(x: usize, idx: usize, o: usize, outer: i32, size: i32, k: i32, inner: i32): void {
  for (let r = 0; r < outer; r++) {
    const xr = x + (<usize>r * <usize>size * <usize>inner << 2);
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++) {
        const q = load<i32>(idx);
        store<i32>(o, load<i32>(xr + ((<usize>q * <usize>inner + <usize>i) << 2)));
        idx += 4;
        o += 4;
      }
    }
  }
}

// @ts-ignore: decorator
@inline function scatterAdd<T>(src: usize, idx: usize, o: usize, outer: i32, size: i32, k: i32, inner: i32): void {
  memory.fill(o, 0, <usize>outer * <usize>size * <usize>inner << 2);
  for (let r = 0; r < outer; r++) {
    const orow = o + (<usize>r * <usize>size * <usize>inner << 2);
    for (let j = 0; j < k; j++) {
      for (let i = 0; i < inner; i++) {
        const p = orow + ((<usize>load<i32>(idx) * <usize>inner + <usize>i) << 2);
        store<T>(p, load<T>(p) + load<T>(src));
        idx += 4;
        src += 4;
      }
    }
  }
}

/** Adjoint of gather: zero `out`, then `out[o, index[o, j, i], i] += src[o, j, i]`. */
export function scatter_add_f32(src: usize, idx: usize, o: usize, outer: i32, size: i32, k: i32, inner: i32): void {
  scatterAdd<f32>(src, idx, o, outer, size, k, inner);
}
/** int32 variant of {@link scatter_add_f32}. */
export function scatter_add_i32(src: usize, idx: usize, o: usize, outer: i32, size: i32, k: i32, inner: i32): void {
  scatterAdd<i32>(src, idx, o, outer, size, k, inner);
}

/**
 * `out[r, c] = x[r*sr + c*sc]` for a contiguous `[R, C]` output, in 8×16 tiles, so a
 * transposed read (sc large, sr small) touches each cache line a few times instead of once
 * per element. Tiles are small because power-of-two row strides map every row of a tile to
 * the same cache set; columns go outermost so each output line is written whole and each input
 * line is finished by the next tile. 4-byte elements of either dtype.
 */
export function copy2d_tiled(x: usize, o: usize, R: i32, C: i32, sr: i32, sc: i32): void {
  for (let c0 = 0; c0 < C; c0 += 16) {
    const c1 = min(C, c0 + 16);
    for (let r0 = 0; r0 < R; r0 += 8) {
      const r1 = min(R, r0 + 8);
      for (let c = c0; c < c1; c++) {
        const xc = x + (<usize>c * <usize>sc << 2);
        for (let r = r0; r < r1; r++) {
          store<i32>(o + ((<usize>r * <usize>C + <usize>c) << 2), load<i32>(xc + (<usize>r * <usize>sr << 2)));
        }
      }
    }
  }
}
