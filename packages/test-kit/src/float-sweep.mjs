// Plain JavaScript (typed by float-sweep.d.mts), so that node scripts such as backend-wasm's
// scripts/ulp-report.mjs can import it as well as the TypeScript tests.

/** Values every sweep ends with: signed zeros, infinities, NaN, and the edges of exp's range. */
const SPECIALS = [0, -0, Infinity, -Infinity, NaN, 88.72283, 88.7228394, 89, -87.33654, -103.97, -104, -110];

/**
 * Inputs for measuring float32 math in ulps: every `stride`-th float32 bit pattern of all 2^32
 * (both signs), then the special values, zero-padded to a multiple of `multiple` elements.
 * @param {number} stride
 * @param {number} [multiple]
 * @returns {Float32Array}
 */
export function float32Sweep(stride, multiple = 1) {
  const n = Math.floor(2 ** 32 / stride);
  const bits = new Uint32Array(Math.ceil((n + SPECIALS.length) / multiple) * multiple);
  for (let i = 0; i < n; i++) bits[i] = i * stride;
  const x = new Float32Array(bits.buffer);
  x.set(SPECIALS, n);
  return x;
}
