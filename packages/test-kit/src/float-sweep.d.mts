/**
 * Inputs for measuring float32 math in ulps: every `stride`-th float32 bit pattern of all 2^32
 * (both signs), then the special values (signed zeros, infinities, NaN, the edges of exp's
 * range), zero-padded to a multiple of `multiple` elements (default 1).
 */
export declare function float32Sweep(stride: number, multiple?: number): Float32Array;
