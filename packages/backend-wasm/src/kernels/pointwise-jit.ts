/**
 * A wasm function per pointwise program, emitted at run time: it replaces the interpreter's
 * per-block loop (assembly/pointwise.ts `run`) on the calling thread, keeping every value of
 * the program in a v128 local instead of a block register in memory. The interpreter still
 * does everything around it (gathers of strided views, constants, blocks, partial blocks,
 * outputs, threads), so this file only turns instructions into SIMD code.
 *
 * The function `(table, nv)` reads each instruction's register pointer from `table` (the
 * interpreter's), then for each of the block's `nv` vectors loads every input, evaluates the
 * program and stores the outputs. Operations that are one SIMD instruction are inlined; the
 * others call the `pwv_*` helpers exported by the kernel module. It is installed in the kernel
 * module's function table, which the interpreter calls through `call_indirect`. Workers hold
 * their own instances of the module (and tables), so threaded calls interpret.
 *
 * The instruction emitter (`emitInstr`) and the module builder (`instantiate`) are shared with
 * ./reduce-jit.ts, which emits reductions of programs.
 */
import { type Instr, instrOperands, type PointwiseProgram } from '@nabla/core';
import type { Runtime } from '../runtime.js';
import { SIMD_OP } from './simd-opcodes.js';

export const V128 = 0x7b;
export const I32 = 0x7f;

/** SIMD opcodes (after the 0xfd prefix) of the operations that are one instruction. */
const SIMD: Record<string, number> = {
  neg_f32: 0xe1,
  abs_f32: 0xe0,
  sqrt_f32: 0xe3,
  floor_f32: 0x68,
  add_f32: 0xe4,
  sub_f32: 0xe5,
  mul_f32: 0xe6,
  div_f32: 0xe7,
  neg_i32: 0xa1,
  abs_i32: 0xa0,
  add_i32: 0xae,
  sub_i32: 0xb1,
  mul_i32: 0xb5,
  min_i32: 0xb6,
  max_i32: 0xb8,
  cast_i32_f32: 0xfa,
};
/** Comparisons: a SIMD compare, then `and` with 1 for int32 0/1. */
const COMPARE: Record<string, number> = {
  eq_f32: 0x41,
  ne_f32: 0x42,
  lt_f32: 0x43,
  gt_f32: 0x44,
  le_f32: 0x45,
  ge_f32: 0x46,
  eq_i32: 0x37,
  ne_i32: 0x38,
  lt_i32: 0x39,
  gt_i32: 0x3b,
  le_i32: 0x3d,
  ge_i32: 0x3f,
};

const short = (d: string) => (d === 'float32' ? 'f32' : 'i32');

function uleb(n: number, out: number[]): void {
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
}
const name = (s: string, out: number[]) => {
  uleb(s.length, out);
  for (let i = 0; i < s.length; i++) out.push(s.charCodeAt(i));
};
const section = (id: number, body: number[], out: number[]) => {
  out.push(id);
  uleb(body.length, out);
  out.push(...body);
};
const simd = (op: number, out: number[]) => {
  out.push(0xfd);
  uleb(op, out);
};
function sleb(n: number, out: number[]): void {
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

/**
 * The operation's name as the helpers spell it (`add_f32`, `cast_f32_i32`, `select`, `copy`);
 * the interpreter's opcodes add `_any` to the dtype-free `select` and `copy` (see pointwise.ts).
 */
export function opName(ins: Instr, code: readonly Instr[]): string {
  switch (ins.op) {
    case 'unary':
      return `${ins.fn}_${short(ins.dtype)}`;
    case 'binary':
      return `${ins.fn}_${short((code[ins.a] as Instr).dtype)}`;
    case 'select':
      return 'select';
    case 'cast': {
      const from = (code[ins.x] as Instr).dtype;
      return from === ins.dtype ? 'copy' : `cast_${short(from)}_${short(ins.dtype)}`;
    }
    default:
      return ins.op;
  }
}

/** A function body under construction, and the kernel module's helpers it calls (its imports). */
export class WasmFn {
  readonly body: number[] = [];
  readonly imports: string[] = [];
  /** Appends raw bytes. */
  op(...bytes: number[]): void {
    this.body.push(...bytes);
  }
  /** `local.get l`. */
  get(l: number): void {
    this.body.push(0x20);
    uleb(l, this.body);
  }
  /** `local.set l`. */
  set(l: number): void {
    this.body.push(0x21);
    uleb(l, this.body);
  }
  /** `local.tee l`. */
  tee(l: number): void {
    this.body.push(0x22);
    uleb(l, this.body);
  }
  /** A SIMD instruction (0xfd prefix); its immediates follow with `op`. */
  simd(op: number): void {
    simd(op, this.body);
  }
  /** `i32.const v`. */
  i32(v: number): void {
    this.body.push(0x41);
    sleb(v, this.body);
  }
  /** `v128.const` of four 32-bit lanes (their bit patterns). */
  v128(lanes: readonly number[]): void {
    simd(SIMD_OP.V128_CONST, this.body);
    for (const v of lanes) this.body.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  }
  /** `call` of a kernel-module helper (imported on first use). */
  call(helper: string): void {
    let k = this.imports.indexOf(helper);
    if (k < 0) k = this.imports.push(helper) - 1;
    this.body.push(0x10);
    uleb(k, this.body);
  }
}

/**
 * Appends the code of instruction `i` of `code` (not an input, position, constant or scalar):
 * reads its operands' v128 locals, leaves its value in `valLocal(i)`. `onesLocal` holds
 * `i32x4.splat(1)` (a comparison's true).
 */
export function emitInstr(
  f: WasmFn,
  code: readonly Instr[],
  i: number,
  valLocal: (i: number) => number,
  onesLocal: number,
): void {
  const ins = code[i] as Instr;
  const op = opName(ins, code);
  const args = instrOperands(ins);
  if (op === 'select') {
    f.get(valLocal(args[1] as number));
    f.get(valLocal(args[2] as number));
    f.get(valLocal(args[0] as number));
    f.v128([0, 0, 0, 0]);
    f.simd(SIMD_OP.I32X4_NE);
    f.simd(SIMD_OP.V128_BITSELECT);
  } else if (op === 'copy') {
    f.get(valLocal(args[0] as number));
  } else if (op === 'recip_f32') {
    f.v128([0x3f800000, 0x3f800000, 0x3f800000, 0x3f800000]); // 1.0f
    f.get(valLocal(args[0] as number));
    f.simd(SIMD.div_f32 as number);
  } else if (COMPARE[op] !== undefined) {
    for (const a of args) f.get(valLocal(a));
    f.simd(COMPARE[op] as number);
    f.get(onesLocal);
    f.simd(SIMD_OP.V128_AND);
  } else if (SIMD[op] !== undefined) {
    for (const a of args) f.get(valLocal(a));
    f.simd(SIMD[op] as number);
  } else {
    for (const a of args) f.get(valLocal(a));
    f.call(`pwv_${op}`);
  }
  f.set(valLocal(i));
}

/**
 * Compiles `f` as the only function of a module (signature `params -> ()`, extra `locals` as
 * [count, type] runs) importing the runtime's memory and the helpers it calls; returns it.
 */
export function instantiate(
  rt: Runtime,
  f: WasmFn,
  params: readonly number[],
  locals: readonly (readonly [number, number])[],
): (...args: number[]) => void {
  const imports = f.imports;
  for (const h of imports) {
    if (typeof rt.exports[h] !== 'function') throw new Error(`wasm backend: the kernel module has no '${h}'`);
  }
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  // types: 0 params -> (), 1..3: v128^k -> v128
  const types: number[] = [];
  uleb(4, types);
  types.push(0x60);
  uleb(params.length, types);
  types.push(...params, 0);
  for (let k = 1; k <= 3; k++) types.push(0x60, k, ...new Array<number>(k).fill(V128), 1, V128);
  section(1, types, out);
  const imp: number[] = [];
  uleb(imports.length + 1, imp);
  name('env', imp);
  name('memory', imp);
  imp.push(0x02, rt.compiled.shared ? 0x03 : 0x01, 0);
  uleb(65536, imp);
  for (const h of imports) {
    name('env', imp);
    name(h, imp);
    const arity = /_(pow|max|min)_f32$|_div_i32$/.test(h) ? 2 : 1;
    imp.push(0x00, arity);
  }
  section(2, imp, out);
  section(3, [1, 0], out);
  const exp: number[] = [1];
  name('run', exp);
  exp.push(0x00);
  uleb(imports.length, exp);
  section(7, exp, out);
  const fn: number[] = [];
  uleb(locals.length, fn);
  for (const [count, type] of locals) {
    uleb(count, fn);
    fn.push(type);
  }
  fn.push(...f.body, 0x0b);
  const codeSec: number[] = [1];
  uleb(fn.length, codeSec);
  codeSec.push(...fn);
  section(10, codeSec, out);

  const env: Record<string, WebAssembly.ImportValue> = { memory: rt.memory };
  for (const h of imports) env[h] = rt.exports[h] as WebAssembly.ImportValue;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(out)), { env });
  return instance.exports.run as (...args: number[]) => void;
}

/**
 * Emits, compiles and installs the function for `program`; returns its function-table index.
 * `uniform[i]`: instruction i is computed once per call (its register holds it splatted).
 */
export function compileJit(rt: Runtime, program: PointwiseProgram, uniform: readonly boolean[]): number {
  const code = program.instructions;
  const n = code.length;
  // locals: 0 table, 1 nv, 2 offset, 3 end; then an i32 pointer and a v128 value per instruction
  const ptrLocal = (i: number) => 4 + i;
  const valLocal = (i: number) => 4 + n + i;
  const onesLocal = 4 + 2 * n;
  const isOutput = new Set(program.outputs);
  // inputs and positions (E.index): their registers are filled by the interpreter per block
  const loaded = (ins: Instr | undefined) => ins?.op === 'input' || ins?.op === 'index';
  const loads = code.flatMap((ins, i) => (loaded(ins) ? [i] : []));
  const stores = [...isOutput].filter((i) => !loaded(code[i]) && !uniform[i]);

  const f = new WasmFn();
  const pointerOf = (i: number) => {
    // table[i]: i32.load offset=4i (local 0)
    f.get(0);
    f.op(0x28, 2);
    uleb(4 * i, f.body);
  };
  // prologue: pointers of inputs and outputs, values of the per-call instructions
  for (const i of [...loads, ...stores]) {
    pointerOf(i);
    f.set(ptrLocal(i));
  }
  code.forEach((_, i) => {
    if (!uniform[i]) return;
    pointerOf(i);
    f.simd(SIMD_OP.V128_LOAD);
    f.op(4, 0);
    f.set(valLocal(i));
  });
  f.v128([1, 1, 1, 1]);
  f.set(onesLocal);
  // end = nv << 4
  f.get(1);
  f.op(0x41, 4, 0x74);
  f.set(3);
  f.op(0x02, 0x40, 0x03, 0x40); // block, loop
  f.get(2);
  f.get(3);
  f.op(0x4f, 0x0d, 1); // i32.ge_u; br_if 1
  const address = (i: number) => {
    f.get(ptrLocal(i));
    f.get(2);
    f.op(0x6a); // i32.add
  };
  for (const i of loads) {
    address(i);
    f.simd(SIMD_OP.V128_LOAD);
    f.op(0, 0);
    f.set(valLocal(i));
  }
  code.forEach((ins, i) => {
    if (loaded(ins) || uniform[i]) return;
    emitInstr(f, code, i, valLocal, onesLocal);
    if (isOutput.has(i)) {
      address(i);
      f.get(valLocal(i));
      f.simd(SIMD_OP.V128_STORE);
      f.op(0, 0);
    }
  });
  f.get(2);
  f.op(0x41, 16, 0x6a); // offset += 16
  f.set(2);
  f.op(0x0c, 0, 0x0b, 0x0b); // br 0; end loop; end block

  // locals after the two params: 2 i32 (offset, end), n i32 pointers, n + 1 v128 values
  const run = instantiate(
    rt,
    f,
    [I32, I32],
    [
      [2 + n, I32],
      [n + 1, V128],
    ],
  );
  const table = rt.exports.table as WebAssembly.Table;
  const index = table.grow(1);
  table.set(index, run);
  return index;
}
