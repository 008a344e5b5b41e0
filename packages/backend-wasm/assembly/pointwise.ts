// Pointwise programs (core's kernels as data): a vectorized block interpreter, written once.
//
// src/kernels/pointwise.ts turns a program into bytecode (cached per program) and, per call,
// writes a descriptor of the views; `pointwise` then walks the output in blocks of PW_BLOCK
// elements and, per block, runs every instruction over the whole block with f32x4/i32x4
// operations, each instruction's value living in a block register (PW_BLOCK lanes in a
// per-thread scratch area). Contiguous inputs are read in place (the register is a pointer
// into the input); strided ones are gathered into their register; outputs are copied out
// after the block's last instruction, so an output may overwrite its own (identity-view)
// input. On the calling thread a function compiled per program (src/kernels/pointwise-jit.ts)
// replaces `run`, the per-block loop; the package README has the measurements behind this.
//
// Layouts (32-bit words; pointers are byte addresses):
//   program:    nInstr, nSlots, nCode, nOut, nSetup, slot[nInstr], code[nCode][5] (op, dst,
//               a, b, c: instruction indices; the first nSetup depend only on constants and
//               scalars and run once per call), outputInstr[nOut]
//   descriptor: program, jit (a function-table index, 0: interpret), nd, dims[nd], nIn, nIn × (instr, mode, ptr, strides[nd]),
//               nPos, nPos × (instr, inner, size: an E.index instruction and its axis's
//               extents in the uncollapsed shape), nFill, nFill × (instr, bits),
//               nOut × (outPtr, direct: the instruction may write full blocks straight into
//               the output)
//   scratch:    table[nInstr] (each instruction's register pointer), index[PW_MAX_DIMS],
//               then nSlots registers of PW_BLOCK × 4 bytes, 16-byte aligned
import { idiv } from './scalar';
import { verf, vexp, vlog, vlog1p, vtanh } from './vmath';

/** Elements per block: a register is 1 KiB, so a dozen live registers stay in L1. */
export const PW_BLOCK: i32 = 256;
/** Most dims a (collapsed) iteration space may have. */
export const PW_MAX_DIMS: i32 = 32;

/** Input modes: read in place, gathered through strides, one value broadcast, copied. */
export const PW_MODE_CONTIGUOUS: i32 = 0;
export const PW_MODE_STRIDED: i32 = 1;
export const PW_MODE_UNIFORM: i32 = 2;
export const PW_MODE_COPY: i32 = 3;

// Opcodes, named PW_<fn>_<dtype of the operands> (src/kernels/pointwise.ts looks them up by name).
export const PW_neg_f32: i32 = 1;
export const PW_abs_f32: i32 = 2;
export const PW_sign_f32: i32 = 3;
export const PW_exp_f32: i32 = 4;
export const PW_log_f32: i32 = 5;
export const PW_log1p_f32: i32 = 6;
export const PW_sqrt_f32: i32 = 7;
export const PW_rsqrt_f32: i32 = 8;
export const PW_recip_f32: i32 = 9;
export const PW_tanh_f32: i32 = 10;
export const PW_erf_f32: i32 = 11;
export const PW_floor_f32: i32 = 12;
export const PW_neg_i32: i32 = 13;
export const PW_abs_i32: i32 = 14;
export const PW_sign_i32: i32 = 15;
export const PW_add_f32: i32 = 16;
export const PW_sub_f32: i32 = 17;
export const PW_mul_f32: i32 = 18;
export const PW_div_f32: i32 = 19;
export const PW_pow_f32: i32 = 20;
export const PW_max_f32: i32 = 21;
export const PW_min_f32: i32 = 22;
export const PW_eq_f32: i32 = 23;
export const PW_ne_f32: i32 = 24;
export const PW_lt_f32: i32 = 25;
export const PW_le_f32: i32 = 26;
export const PW_gt_f32: i32 = 27;
export const PW_ge_f32: i32 = 28;
export const PW_add_i32: i32 = 29;
export const PW_sub_i32: i32 = 30;
export const PW_mul_i32: i32 = 31;
export const PW_div_i32: i32 = 32;
export const PW_max_i32: i32 = 33;
export const PW_min_i32: i32 = 34;
export const PW_eq_i32: i32 = 35;
export const PW_ne_i32: i32 = 36;
export const PW_lt_i32: i32 = 37;
export const PW_le_i32: i32 = 38;
export const PW_gt_i32: i32 = 39;
export const PW_ge_i32: i32 = 40;
export const PW_select_any: i32 = 41;
export const PW_cast_f32_i32: i32 = 42;
export const PW_cast_i32_f32: i32 = 43;
export const PW_copy_any: i32 = 44;

/**
 * Evaluates the program of descriptor `desc` at output elements [start, end), using
 * `scratch` (this thread's; its size is computed in src/kernels/pointwise.ts). Threads split [0, total) between them.
 */
export function pointwise(desc: usize, scratch: usize, start: i32, end: i32): void {
  const prog = <usize>load<i32>(desc);
  const nInstr = load<i32>(prog);
  const nCode = load<i32>(prog, 8);
  const nOut = load<i32>(prog, 12);
  const nSetup = load<i32>(prog, 16);
  const slotOf = prog + 20;
  const code = slotOf + (<usize>nInstr << 2);
  const outInstr = code + <usize>nCode * 20;
  const jit = load<u32>(desc, 4);
  const nd = load<i32>(desc, 8);
  const dims = desc + 12;
  const inputs = dims + (<usize>nd << 2);
  const nIn = load<i32>(inputs);
  const inWords = 3 + nd;
  const positions = inputs + 4 + (<usize>(nIn * inWords) << 2);
  const nPos = load<i32>(positions);
  const fills = positions + 4 + <usize>nPos * 12;
  const nFill = load<i32>(fills);
  const outPtrs = fills + 4 + (<usize>nFill << 3);

  const table = scratch;
  const index = table + (<usize>nInstr << 2);
  const regs = (index + (<usize>PW_MAX_DIMS << 2) + 15) & ~(<usize>15);
  for (let i = 0; i < nInstr; i++) {
    const slot = load<i32>(slotOf + (<usize>i << 2));
    store<usize>(table + (<usize>i << 2), regs + <usize>slot * <usize>(PW_BLOCK * 4));
  }
  // per-call values (constants, scalars): one fill of their registers, which stay theirs
  const fillLen = min(PW_BLOCK, (end - start + 3) & ~3);
  for (let f = 0; f < nFill; f++) {
    const at = fills + 4 + (<usize>f << 3);
    fill(load<usize>(table + (<usize>load<i32>(at) << 2)), fillLen, load<i32>(at, 4));
  }

  run(code, nSetup, table, fillLen >> 2);
  const blockCode = code + <usize>nSetup * 20;

  for (let s = start; s < end; s += PW_BLOCK) {
    const n = min(PW_BLOCK, end - s);
    for (let k = 0; k < nIn; k++) {
      const at = inputs + 4 + (<usize>(k * inWords) << 2);
      const instr = load<i32>(at);
      const mode = load<i32>(at, 4);
      const src = <usize>load<i32>(at, 8);
      const reg = regs + <usize>load<i32>(slotOf + (<usize>instr << 2)) * <usize>(PW_BLOCK * 4);
      const entry = table + (<usize>instr << 2);
      if (mode == PW_MODE_CONTIGUOUS && n == PW_BLOCK) {
        store<usize>(entry, src + (<usize>s << 2));
      } else if (mode == PW_MODE_CONTIGUOUS || mode == PW_MODE_COPY) {
        copy(reg, src + (<usize>s << 2), n);
        store<usize>(entry, reg);
      } else if (mode == PW_MODE_STRIDED) {
        gather(reg, src, dims, at + 12, nd, s, n, index);
      } else {
        // a uniform input's register may serve later instructions too: refilled per block
        fill(reg, n, load<i32>(src));
      }
    }
    for (let q = 0; q < nPos; q++) {
      const at = positions + 4 + <usize>q * 12;
      const instr = load<i32>(at);
      coordinates(load<usize>(table + (<usize>instr << 2)), s, n, load<i32>(at, 4), load<i32>(at, 8));
    }
    for (let j = 0; j < nOut; j++) {
      const at = outPtrs + (<usize>j << 3);
      if (load<i32>(at, 4) == 0) continue;
      const instr = load<i32>(outInstr + (<usize>j << 2));
      const reg = regs + <usize>load<i32>(slotOf + (<usize>instr << 2)) * <usize>(PW_BLOCK * 4);
      // a partial block's vectors would run past the output's end: through the register
      store<usize>(table + (<usize>instr << 2), n == PW_BLOCK ? <usize>load<i32>(at) + (<usize>s << 2) : reg);
    }
    if (jit != 0) call_indirect<void>(jit, table, (n + 3) >> 2);
    else run(blockCode, nCode - nSetup, table, (n + 3) >> 2);
    for (let j = 0; j < nOut; j++) {
      const from = load<usize>(table + (<usize>load<i32>(outInstr + (<usize>j << 2)) << 2));
      const to = <usize>load<i32>(outPtrs + (<usize>j << 3)) + (<usize>s << 2);
      if (from != to) copy(to, from, n);
    }
  }
}

// @ts-ignore: decorator
@inline function fill(dst: usize, n: i32, bits: i32): void {
  const v = i32x4.splat(bits);
  for (let i = 0; i < n; i += 4) v128.store(dst + (<usize>i << 2), v);
}

/**
 * Writes the coordinates of output elements [s, s + n) along an axis with `inner` elements
 * per step and `size` steps (`floor(i / inner) % size`): one division for the first, then a
 * counter, so a block costs about what a strided gather of an index tensor would.
 */
function coordinates(dst: usize, s: i32, n: i32, inner: i32, size: i32): void {
  let c = (s / inner) % size;
  let r = s % inner;
  for (let i = 0; i < n; i++) {
    store<i32>(dst + (<usize>i << 2), c);
    if (++r == inner) {
      r = 0;
      if (++c == size) c = 0;
    }
  }
}

/** Copies `n` 4-byte elements (whole vectors, then a scalar tail; never past `n`). */
function copy(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<i32>(dst + (<usize>i << 2), load<i32>(src + (<usize>i << 2)));
}

/**
 * Reads output elements [s, s + n) of a strided view into `dst`: an odometer over the dims,
 * started from `s`'s multi-index, copying whole runs of the innermost dim at a time.
 */
function gather(dst: usize, base: usize, dims: usize, strides: usize, nd: i32, s: i32, n: i32, index: usize): void {
  let off = 0;
  let rem = s;
  for (let d = nd - 1; d >= 0; d--) {
    const size = load<i32>(dims + (<usize>d << 2));
    const i = rem % size;
    rem /= size;
    store<i32>(index + (<usize>d << 2), i);
    off += i * load<i32>(strides + (<usize>d << 2));
  }
  const last = nd - 1;
  const len = load<i32>(dims + (<usize>last << 2));
  const step = load<i32>(strides + (<usize>last << 2));
  let pos = load<i32>(index + (<usize>last << 2));
  let done = 0;
  while (done < n) {
    const run = min(len - pos, n - done);
    const to = dst + (<usize>done << 2);
    const from = base + (<usize>off << 2);
    if (step == 1) copy(to, from, run);
    else if (step == 0) {
      const v = load<i32>(from);
      for (let i = 0; i < run; i++) store<i32>(to + (<usize>i << 2), v);
    } else {
      for (let i = 0; i < run; i++) store<i32>(to + (<usize>i << 2), load<i32>(from + (<usize>(i * step) << 2)));
    }
    done += run;
    off += run * step;
    pos += run;
    if (pos == len) {
      off -= len * step;
      pos = 0;
      for (let d = last - 1; d >= 0; d--) {
        const at = index + (<usize>d << 2);
        const i = load<i32>(at) + 1;
        const st = load<i32>(strides + (<usize>d << 2));
        const size = load<i32>(dims + (<usize>d << 2));
        if (i < size) {
          store<i32>(at, i);
          off += st;
          break;
        }
        store<i32>(at, 0);
        off -= (size - 1) * st;
      }
    }
  }
}

/** `x > y || isNaN(x) ? x : y` (core's max; min with `lt`): NaN from either side, ties give y. */
// @ts-ignore: decorator
@inline function pick(x: v128, y: v128, better: v128): v128 {
  return v128.bitselect(x, y, v128.or(better, f32x4.ne(x, x)));
}

/** 1/√x rounded once from float64, as core's reference computes it. */
// @ts-ignore: decorator
@inline function rsqrt64(x: v128): v128 {
  const one = f64x2.splat(1);
  const lo = f32x4.demote_f64x2_zero(f64x2.div(one, f64x2.sqrt(f64x2.promote_low_f32x4(x))));
  const hi = f32x4.demote_f64x2_zero(
    f64x2.div(one, f64x2.sqrt(f64x2.promote_low_f32x4(v128.shuffle<i64>(x, x, 1, 1)))),
  );
  return v128.shuffle<i64>(lo, hi, 0, 2);
}

/** `a ** b` as JavaScript rounds it: float64 pow, with JavaScript's NaN cases where C's differ. */
function powJs(a: f32, b: f32): f32 {
  if (b != b || (Mathf.abs(a) == 1 && !isFinite(b))) return NaN;
  return <f32>Math.pow(<f64>a, <f64>b);
}

/** float32 -> int32 as JavaScript's `Math.trunc(x) | 0`: truncate, then wrap modulo 2^32; NaN and ±∞ give 0. */
function toInt32(x: f32): i32 {
  if (!isFinite(x)) return 0;
  const t = Math.trunc(<f64>x);
  return <i32><i64>(t - Math.floor(t / 4294967296.0) * 4294967296.0);
}

/** Runs every instruction of `code` over `nv` vectors of each register. */
function run(code: usize, nCode: i32, table: usize, nv: i32): void {
  const bytes = <usize>nv << 4;
  const ones = i32x4.splat(1);
  const zero = f32x4.splat(0);
  for (let c = 0; c < nCode; c++) {
    const w = code + <usize>c * 20;
    const op = load<i32>(w);
    const d = load<usize>(table + (<usize>load<i32>(w, 4) << 2));
    const a = load<usize>(table + (<usize>load<i32>(w, 8) << 2));
    const b = load<usize>(table + (<usize>load<i32>(w, 12) << 2));
    const e = load<usize>(table + (<usize>load<i32>(w, 16) << 2));
    switch (op) {
      case PW_neg_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.neg(v128.load(a + i))); break;
      case PW_abs_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.abs(v128.load(a + i))); break;
      case PW_sign_f32:
        for (let i: usize = 0; i < bytes; i += 16) {
          const x = v128.load(a + i);
          const neg = v128.bitselect(f32x4.splat(-1), x, f32x4.lt(x, zero));
          v128.store(d + i, v128.bitselect(f32x4.splat(1), neg, f32x4.gt(x, zero)));
        }
        break;
      case PW_exp_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, vexp(v128.load(a + i))); break;
      case PW_log_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, vlog(v128.load(a + i))); break;
      case PW_log1p_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, vlog1p(v128.load(a + i))); break;
      case PW_sqrt_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.sqrt(v128.load(a + i))); break;
      case PW_rsqrt_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, rsqrt64(v128.load(a + i))); break;
      case PW_recip_f32:
        for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.div(f32x4.splat(1), v128.load(a + i)));
        break;
      case PW_tanh_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, vtanh(v128.load(a + i))); break;
      case PW_erf_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, verf(v128.load(a + i))); break;
      case PW_floor_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.floor(v128.load(a + i))); break;
      case PW_neg_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, i32x4.neg(v128.load(a + i))); break;
      case PW_abs_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, i32x4.abs(v128.load(a + i))); break;
      case PW_sign_i32:
        for (let i: usize = 0; i < bytes; i += 16) {
          const x = v128.load(a + i);
          v128.store(d + i, i32x4.sub(i32x4.lt_s(x, zero), i32x4.gt_s(x, zero)));
        }
        break;
      case PW_add_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.add(v128.load(a + i), v128.load(b + i))); break;
      case PW_sub_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.sub(v128.load(a + i), v128.load(b + i))); break;
      case PW_mul_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.mul(v128.load(a + i), v128.load(b + i))); break;
      case PW_div_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.div(v128.load(a + i), v128.load(b + i))); break;
      case PW_pow_f32:
        for (let i: usize = 0; i < bytes; i += 4) store<f32>(d + i, powJs(load<f32>(a + i), load<f32>(b + i)));
        break;
      case PW_max_f32:
        for (let i: usize = 0; i < bytes; i += 16) {
          const x = v128.load(a + i), y = v128.load(b + i);
          v128.store(d + i, pick(x, y, f32x4.gt(x, y)));
        }
        break;
      case PW_min_f32:
        for (let i: usize = 0; i < bytes; i += 16) {
          const x = v128.load(a + i), y = v128.load(b + i);
          v128.store(d + i, pick(x, y, f32x4.lt(x, y)));
        }
        break;
      case PW_eq_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(f32x4.eq(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_ne_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(f32x4.ne(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_lt_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(f32x4.lt(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_le_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(f32x4.le(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_gt_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(f32x4.gt(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_ge_f32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(f32x4.ge(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_add_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, i32x4.add(v128.load(a + i), v128.load(b + i))); break;
      case PW_sub_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, i32x4.sub(v128.load(a + i), v128.load(b + i))); break;
      case PW_mul_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, i32x4.mul(v128.load(a + i), v128.load(b + i))); break;
      case PW_div_i32:
        for (let i: usize = 0; i < bytes; i += 4) store<i32>(d + i, idiv(load<i32>(a + i), load<i32>(b + i)));
        break;
      case PW_max_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, i32x4.max_s(v128.load(a + i), v128.load(b + i))); break;
      case PW_min_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, i32x4.min_s(v128.load(a + i), v128.load(b + i))); break;
      case PW_eq_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(i32x4.eq(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_ne_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(i32x4.ne(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_lt_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(i32x4.lt_s(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_le_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(i32x4.le_s(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_gt_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(i32x4.gt_s(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_ge_i32: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.and(i32x4.ge_s(v128.load(a + i), v128.load(b + i)), ones)); break;
      case PW_select_any:
        for (let i: usize = 0; i < bytes; i += 16) {
          const take = i32x4.ne(v128.load(a + i), zero);
          v128.store(d + i, v128.bitselect(v128.load(b + i), v128.load(e + i), take));
        }
        break;
      case PW_cast_f32_i32:
        for (let i: usize = 0; i < bytes; i += 16) {
          const x = v128.load(a + i);
          if (v128.any_true(v128.not(f32x4.lt(f32x4.abs(x), f32x4.splat(2147483648.0))))) {
            // a lane out of int32 range (or NaN): JavaScript wraps it modulo 2^32
            for (let l: usize = 0; l < 16; l += 4) store<i32>(d + i + l, toInt32(load<f32>(a + i + l)));
          } else {
            v128.store(d + i, i32x4.trunc_sat_f32x4_s(x));
          }
        }
        break;
      case PW_cast_i32_f32:
        for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, f32x4.convert_i32x4_s(v128.load(a + i)));
        break;
      case PW_copy_any: for (let i: usize = 0; i < bytes; i += 16) v128.store(d + i, v128.load(a + i)); break;
      default:
        unreachable();
    }
  }
}

// ---- Vector helpers of the functions compiled per program (src/kernels/pointwise-jit.ts) ----
// Those functions inline single-instruction operations and call these for the rest; they
// take and return v128, so they are called only from wasm, never from JavaScript.

export function pwv_sign_f32(x: v128): v128 {
  const zero = f32x4.splat(0);
  return v128.bitselect(f32x4.splat(1), v128.bitselect(f32x4.splat(-1), x, f32x4.lt(x, zero)), f32x4.gt(x, zero));
}
export function pwv_sign_i32(x: v128): v128 {
  const zero = i32x4.splat(0);
  return i32x4.sub(i32x4.lt_s(x, zero), i32x4.gt_s(x, zero));
}
export function pwv_exp_f32(x: v128): v128 { return vexp(x); }
export function pwv_log_f32(x: v128): v128 { return vlog(x); }
export function pwv_log1p_f32(x: v128): v128 { return vlog1p(x); }
export function pwv_tanh_f32(x: v128): v128 { return vtanh(x); }
export function pwv_erf_f32(x: v128): v128 { return verf(x); }
export function pwv_rsqrt_f32(x: v128): v128 { return rsqrt64(x); }
export function pwv_max_f32(x: v128, y: v128): v128 { return pick(x, y, f32x4.gt(x, y)); }
export function pwv_min_f32(x: v128, y: v128): v128 { return pick(x, y, f32x4.lt(x, y)); }
export function pwv_pow_f32(x: v128, y: v128): v128 {
  let r = f32x4.splat(0);
  r = f32x4.replace_lane(r, 0, powJs(f32x4.extract_lane(x, 0), f32x4.extract_lane(y, 0)));
  r = f32x4.replace_lane(r, 1, powJs(f32x4.extract_lane(x, 1), f32x4.extract_lane(y, 1)));
  r = f32x4.replace_lane(r, 2, powJs(f32x4.extract_lane(x, 2), f32x4.extract_lane(y, 2)));
  return f32x4.replace_lane(r, 3, powJs(f32x4.extract_lane(x, 3), f32x4.extract_lane(y, 3)));
}
export function pwv_div_i32(x: v128, y: v128): v128 {
  let r = i32x4.splat(0);
  r = i32x4.replace_lane(r, 0, idiv(i32x4.extract_lane(x, 0), i32x4.extract_lane(y, 0)));
  r = i32x4.replace_lane(r, 1, idiv(i32x4.extract_lane(x, 1), i32x4.extract_lane(y, 1)));
  r = i32x4.replace_lane(r, 2, idiv(i32x4.extract_lane(x, 2), i32x4.extract_lane(y, 2)));
  return i32x4.replace_lane(r, 3, idiv(i32x4.extract_lane(x, 3), i32x4.extract_lane(y, 3)));
}
export function pwv_cast_f32_i32(x: v128): v128 {
  if (!v128.any_true(v128.not(f32x4.lt(f32x4.abs(x), f32x4.splat(2147483648.0))))) return i32x4.trunc_sat_f32x4_s(x);
  let r = i32x4.splat(0);
  r = i32x4.replace_lane(r, 0, toInt32(f32x4.extract_lane(x, 0)));
  r = i32x4.replace_lane(r, 1, toInt32(f32x4.extract_lane(x, 1)));
  r = i32x4.replace_lane(r, 2, toInt32(f32x4.extract_lane(x, 2)));
  return i32x4.replace_lane(r, 3, toInt32(f32x4.extract_lane(x, 3)));
}
