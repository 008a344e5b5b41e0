/**
 * The SIMD opcodes (after the 0xfd prefix) the run-time code emitters use, by name: one table
 * for the pointwise and the reduction JIT.
 */
export const SIMD_OP = {
  V128_LOAD: 0x00,
  LOAD32_SPLAT: 0x09,
  V128_STORE: 0x0b,
  V128_CONST: 0x0c,
  SHUFFLE: 0x0d,
  I32X4_SPLAT: 0x11,
  F32X4_SPLAT: 0x13,
  I32X4_EXTRACT: 0x1b,
  I32X4_NE: 0x38,
  V128_AND: 0x4e,
  V128_BITSELECT: 0x52,
  LOAD32_LANE: 0x56,
  LOAD32_ZERO: 0x5c,
  DEMOTE_F64X2_ZERO: 0x5e,
  PROMOTE_LOW_F32X4: 0x5f,
  F64X2_ADD: 0xf0,
} as const;
