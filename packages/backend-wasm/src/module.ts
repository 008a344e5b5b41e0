/**
 * Loading the inlined kernels: decode the base64, pick the relaxed-SIMD build when this
 * engine validates it, and the shared-memory build when threads will be used.
 */
import {
  MAX_PAGES,
  relaxedPrivate,
  relaxedShared,
  simdPrivate,
  simdShared,
} from './generated/kernels-wasm.js';

export { MAX_PAGES };

/** The compiled kernels and which build they are. */
export interface CompiledKernels {
  readonly module: WebAssembly.Module;
  readonly relaxedSimd: boolean;
  readonly shared: boolean;
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const B = (globalThis as { Buffer?: { from(s: string, e: string): Uint8Array } }).Buffer;
  if (B) return new Uint8Array(B.from(b64, 'base64'));
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** True when the engine can run WebAssembly SIMD (v128) at all. */
export function simdSupported(): boolean {
  return typeof WebAssembly === 'object' && WebAssembly.validate(decode(simdPrivate));
}

/**
 * Compiles the kernel build for this engine. `relaxed`: 'auto' takes relaxed SIMD
 * (`f32x4.relaxed_madd`) when `WebAssembly.validate` accepts it.
 */
export async function compileKernels(shared: boolean, relaxed: boolean | 'auto'): Promise<CompiledKernels> {
  const relaxedBytes = decode(shared ? relaxedShared : relaxedPrivate);
  const useRelaxed = relaxed === 'auto' ? WebAssembly.validate(relaxedBytes) : relaxed;
  const bytes = useRelaxed ? relaxedBytes : decode(shared ? simdShared : simdPrivate);
  if (!WebAssembly.validate(bytes)) {
    throw new Error(
      `wasm backend: this engine cannot compile the ${useRelaxed ? 'relaxed-SIMD' : 'SIMD'} kernels ` +
        '(WebAssembly SIMD is required: Node >= 16.4, Chrome >= 91, Firefox >= 89, Safari >= 16.4).',
    );
  }
  const module = await WebAssembly.compile(bytes);
  return { module, relaxedSimd: useRelaxed, shared };
}
