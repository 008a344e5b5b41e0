/**
 * The workload spec (`bench/workloads.json`, spec v2) as typed sizes, and the cases every
 * implementation runs. A tiny scale exists only so the unit test can run each case once.
 */
import { readFileSync } from 'node:fs';

/** Spec file shipped with the package (a copy of the shared spec, so the repo is self-contained). */
export const SPEC_PATH = new URL('../workloads.json', import.meta.url);

/** Parsed `workloads.json`. */
export const SPEC = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as {
  spec_version: number;
  timing: { warmup: number; iters: number };
  workloads: Record<string, { warmup?: number; iters?: number }>;
};

/** Every case id, in report order. `W2b_3d_channels_last` is only run by channels-last peers. */
export const CASE_IDS = [
  'W1',
  'W2a_2d',
  'W2b_3d',
  'W2b_3d_channels_last',
  'W3_AB',
  'W3_AtB',
  'W3_ABt',
  'W4',
  'W5',
  'W6',
] as const;
/** One benchmark case. */
export type CaseId = (typeof CASE_IDS)[number];

/** Shapes of every workload at one scale. */
export interface Sizes {
  /** MLP widths `[in, h1, h2, out]` shared by W1 and W4. */
  readonly mlp: readonly [number, number, number, number];
  readonly w1Batch: number;
  readonly w4Batch: number;
  /** W2a `(N, C)`. */
  readonly w2a: readonly [number, number];
  /** W2b `(N, C, L)`. */
  readonly w2b: readonly [number, number, number];
  /** W3 square size. */
  readonly w3: number;
  /** W5 (small tabular classifier) and W6 (MNIST-sized MLP): widths `[in, h1, h2, out]` and batch. */
  readonly w5: SmallMlp;
  readonly w6: SmallMlp;
}

/** A small-MLP training workload (W5, W6): the W1 architecture at another size, trained with Adam. */
export interface SmallMlp {
  readonly mlp: readonly [number, number, number, number];
  readonly batch: number;
}

/** The sizes in spec v2. */
export const FULL_SIZES: Sizes = {
  mlp: [784, 512, 256, 10],
  w1Batch: 256,
  w4Batch: 1024,
  w2a: [4096, 512],
  w2b: [64, 128, 256],
  w3: 1024,
  w5: { mlp: [32, 64, 64, 2], batch: 32 },
  w6: { mlp: [784, 128, 64, 10], batch: 64 },
};

/** Small enough for a unit test to run every case once in well under a second. */
export const TINY_SIZES: Sizes = {
  mlp: [12, 8, 6, 3],
  w1Batch: 4,
  w4Batch: 5,
  w2a: [6, 4],
  w2b: [3, 4, 5],
  w3: 8,
  w5: { mlp: [6, 5, 4, 2], batch: 4 },
  w6: { mlp: [10, 7, 5, 3], batch: 5 },
};

/** BatchNorm hyper-parameters of every workload (PyTorch conventions). */
export const BN = { eps: 1e-5, momentum: 0.1 } as const;
/** SGD hyper-parameters of W1. */
export const SGD = { lr: 0.01, momentum: 0.9 } as const;
/** Adam hyper-parameters of W5 and W6 (no weight decay, no AMSGrad). */
export const ADAM = { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8 } as const;

/** Where the W5/W6 case's sizes live in {@link Sizes}. */
export function smallMlpOf(id: 'W5' | 'W6', sizes: Sizes): SmallMlp {
  return id === 'W5' ? sizes.w5 : sizes.w6;
}

/**
 * Warm-up and timed iterations of a case from the spec: per workload where it says so (W5, W6:
 * 20 and 200, a step is well under a millisecond), else the spec's global timing (5 and 30).
 */
export function specLoop(id: CaseId): { warmup: number; iters: number } {
  const w = SPEC.workloads[familyOf(id)];
  return { warmup: w?.warmup ?? SPEC.timing.warmup, iters: w?.iters ?? SPEC.timing.iters };
}

/** `W2a_2d` → `W2`, `W3_AtB` → `W3`, `W5` → `W5`. */
export function familyOf(id: CaseId): string {
  return id.slice(0, 2);
}

/** What the headline number of a case is. */
export type MetricKind = 'samples_per_s' | 'gflops' | 'ms';

/** The headline throughput of a case from its median time in ms. */
export function metricOf(
  id: CaseId,
  medianMs: number,
  sizes: Sizes = FULL_SIZES,
): { kind: MetricKind; value: number } {
  const s = medianMs / 1000;
  switch (id) {
    case 'W1':
      return { kind: 'samples_per_s', value: sizes.w1Batch / s };
    case 'W4':
      return { kind: 'samples_per_s', value: sizes.w4Batch / s };
    case 'W5':
    case 'W6':
      return { kind: 'samples_per_s', value: smallMlpOf(id, sizes).batch / s };
    case 'W3_AB':
    case 'W3_AtB':
    case 'W3_ABt':
      return { kind: 'gflops', value: (2 * sizes.w3 ** 3) / s / 1e9 };
    default:
      return { kind: 'ms', value: medianMs };
  }
}

/** Expands user filters (`W1`, `W2`, `W3_AtB`, ...) to case ids; empty means all. */
export function selectCases(filters: readonly string[]): CaseId[] {
  if (filters.length === 0) return [...CASE_IDS];
  const norm = filters.map((f) => f.charAt(0).toUpperCase() + f.slice(1));
  // `W2` selects W2a_2d, W2b_3d...; an exact case id selects itself
  const exact = (f: string) => (CASE_IDS as readonly string[]).includes(f);
  const matches = (id: string, f: string) =>
    id === f || (!exact(f) && id.startsWith(f) && /^[a-z_]/i.test(id.slice(f.length)));
  const unknown = norm.filter((f) => !CASE_IDS.some((id) => matches(id, f)));
  if (unknown.length > 0) {
    throw new Error(
      `unknown workload ${unknown.join(', ')}; known: W1 W2 W3 W4 W5 W6 or a case id (${CASE_IDS.join(' ')})`,
    );
  }
  return CASE_IDS.filter((id) => norm.some((f) => matches(id, f)));
}
