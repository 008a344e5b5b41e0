/**
 * Which backends the tests run on. Every backend package that is built and can start here
 * is under test; `NABLA_TEST_BACKENDS=cpu,wasm` narrows the list. A backend that cannot
 * start is reported (with its reason) rather than silently dropped: the run ends with one line
 * naming it (see tools/test-setup/backends.ts), and under `CI=true` it is an error.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { manifest as cpu } from '@nabla/backend-cpu/manifest';
import { manifest as wasm } from '@nabla/backend-wasm/manifest';
import { manifest as webgpu } from '@nabla/backend-webgpu/manifest';
import { type Backend, initBackend, type Kernels, listBackends, registerBackend } from '@nabla/core';

/**
 * Backend names and the packages that register them, from each backend's manifest. (The
 * manifests are imported here rather than from `nabla/backends`: nn and optim test with this
 * package, and `nabla` builds on them.)
 */
export const KNOWN_BACKENDS: Record<string, string> = Object.fromEntries(
  [cpu, wasm, webgpu].map((m) => [m.name, m.package]),
);

/** Why a backend is not under test, by name (filled by {@link backendsUnderTest}). */
export const skippedBackends: Record<string, string> = {};

let cached: Promise<string[]> | null = null;

/** Names of the backends to run the suites on; `cpu` must always start. */
export function backendsUnderTest(): Promise<string[]> {
  cached ??= discover();
  return cached;
}

async function discover(): Promise<string[]> {
  const wanted = (process.env.NABLA_TEST_BACKENDS ?? Object.keys(KNOWN_BACKENDS).join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const ready: string[] = [];
  for (const name of wanted) {
    const pkg = KNOWN_BACKENDS[name];
    if (!pkg)
      throw new Error(
        `NABLA_TEST_BACKENDS names unknown backend '${name}' (known: ${Object.keys(KNOWN_BACKENDS).join(', ')})`,
      );
    try {
      await import(/* @vite-ignore */ pkg);
      await initBackend(name);
      ready.push(name);
    } catch (err) {
      const reason = (err as Error).message.split('\n')[0];
      skippedBackends[name] = reason;
      if (name === 'cpu' || process.env.NABLA_TEST_BACKENDS)
        throw new Error(`backend '${name}' is required but cannot start: ${reason}`);
      if (isCI())
        throw new Error(
          `backend '${name}' cannot start, and CI must test every backend: ${reason} (narrow the list with NABLA_TEST_BACKENDS to run without it)`,
        );
      reportSkipped(name, reason);
    }
  }
  return ready;
}

function isCI(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/** Tells the test run's global setup (it prints one summary line at the end). */
function reportSkipped(name: string, reason: string): void {
  const dir = process.env.NABLA_TEST_REPORT_DIR;
  if (!dir) {
    console.warn(`[nabla tests] backend '${name}' is NOT under test: ${reason}`);
    return;
  }
  try {
    writeFileSync(join(dir, `${name}-${process.pid}.json`), JSON.stringify({ name, reason }));
  } catch {
    console.warn(`[nabla tests] backend '${name}' is NOT under test: ${reason}`);
  }
}

/**
 * Registers a second, independent cpu backend under `name` (for tests that need two
 * backends: moves with `to()`, and errors from mixing backends). The instance reports
 * `name`, so messages that name backends can be checked.
 */
export async function registerCpuAlias(name: string): Promise<void> {
  if (listBackends().includes(name)) return;
  const { createCpuBackend } = await import('@nabla/backend-cpu');
  registerBackend(name, () => Object.create(createCpuBackend(), { name: { value: name } }) as Backend, {
    priority: -10,
  });
  await initBackend(name);
}

/** Imports and starts the cpu backend (the reference other backends are compared with). */
export async function ensureCpu(): Promise<void> {
  await import('@nabla/backend-cpu');
  await initBackend('cpu');
}

/**
 * Registers (once) and starts `cpu-primitives`: the cpu backend with its fused kernels hidden,
 * so the whole suite also runs core's composed paths the way a minimal new backend sees them.
 * Returns its name.
 */
export async function registerPrimitivesOnlyCpu(): Promise<string> {
  const name = 'cpu-primitives';
  if (!listBackends().includes(name)) {
    const { createCpuBackend } = await import('@nabla/backend-cpu');
    registerBackend(
      name,
      () => {
        const base = createCpuBackend();
        const { pointwise, fill, reduce, matmul, gather, scatterAdd } = base.kernels;
        const kernels: Kernels = { pointwise, fill, reduce, matmul, gather, scatterAdd };
        const capabilities = {
          ...base.capabilities,
          info: { ...base.capabilities.info, note: 'cpu with fused kernels hidden' },
        };
        return Object.create(base, {
          name: { value: name },
          kernels: { value: kernels, writable: true, configurable: true, enumerable: true },
          capabilities: { value: capabilities },
        }) as Backend;
      },
      { priority: -10 },
    );
  }
  await initBackend(name);
  return name;
}
