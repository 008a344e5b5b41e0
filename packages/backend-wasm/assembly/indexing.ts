// Fill, gather, scatter-add and the tiled transposed copy: data movement kernels (the JS side is
// kernels/indexing.ts and kernels/pointwise.ts). Pointers are byte addresses.

/** Fills `n` 4-byte elements with the bit pattern `bits` (a float32 or int32 value). */
export function fill32(o: usize, n: i32, bits: i32): void {
  const v = i32x4.splat(bits);
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(o + (<usize>i << 2), v);
  for (; i < n; i++) store<i32>(o + (<usize>i << 2), bits);
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
