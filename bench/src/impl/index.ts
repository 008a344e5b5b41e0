/** The implementations the harness knows, by id. Each is loaded lazily in its own process. */
import type { Impl } from './types.js';

/** Nabla backends, in report order; a backend whose package is not built is reported as skipped. */
export const NABLA_BACKENDS = ['cpu', 'wasm', 'webgpu'] as const;

/** JS implementations run by `worker.ts`. */
export const JS_IMPLS = [
  ...NABLA_BACKENDS.map((b) => `nabla-${b}`),
  ...NABLA_BACKENDS.map((b) => `nabla-${b}-compiled`),
  'tfjs-cpu',
  'tfjs-wasm',
  'jax-wasm',
  'plainjs-blocked',
  'plainjs-ikj',
  'plainjs-unroll4',
] as const;

/** The Python peers: PyTorch 1.13 (Debian) and PyTorch 2.x (CPU wheel in a venv), one script. */
export const TORCH_IMPLS = ['torch', 'torch2'] as const;

/** Every implementation id, including the Python PyTorch peers. */
export const ALL_IMPLS = [...JS_IMPLS, ...TORCH_IMPLS] as const;

/** True for the PyTorch peers (the ratios are also given against the faster of them). */
export function isTorch(id: string): boolean {
  return (TORCH_IMPLS as readonly string[]).includes(id);
}

/** True for Nabla's own implementations (the numerators of the ratios). */
export function isNabla(id: string): boolean {
  return id.startsWith('nabla-');
}

/** Loads one JS implementation; throws `SkipError` when it cannot run here. */
export async function createImpl(id: string): Promise<Impl> {
  if (id.startsWith('nabla-')) {
    const { createNabla } = await import('./nabla.js');
    const compiled = id.endsWith('-compiled');
    return createNabla(id.slice('nabla-'.length, compiled ? -'-compiled'.length : undefined), compiled);
  }
  switch (id) {
    case 'tfjs-cpu':
    case 'tfjs-wasm': {
      const { createTfjs } = await import('./tfjs.js');
      return createTfjs(id === 'tfjs-cpu' ? 'cpu' : 'wasm');
    }
    case 'jax-wasm': {
      const { createJax } = await import('./jax.js');
      return createJax();
    }
    case 'plainjs-blocked':
    case 'plainjs-ikj':
    case 'plainjs-unroll4': {
      const { createPlainJs } = await import('./plainjs.js');
      return createPlainJs(id.slice('plainjs-'.length) as 'blocked' | 'ikj' | 'unroll4');
    }
    default:
      throw new Error(`unknown implementation '${id}'; known: ${ALL_IMPLS.join(', ')}`);
  }
}
