/**
 * `nabla/backends`: the manifests of the backends `nabla` depends on, as each package describes
 * itself (name, priority, package, loader). Importing this entry registers nothing and loads no
 * backend; the test suite, the examples' CLI and the web page read backend names from here.
 */
import { manifest as cpu } from '@nabla/backend-cpu/manifest';
import { manifest as wasm } from '@nabla/backend-wasm/manifest';
import { manifest as webgpu } from '@nabla/backend-webgpu/manifest';
import type { BackendManifest } from '@nabla/core';

/** Every backend `nabla` knows, in the order their packages are listed (not by priority). */
export const backendManifests: readonly BackendManifest[] = [cpu, wasm, webgpu];

/** Backend names, from the manifests. */
export const backendNames: readonly string[] = backendManifests.map((m) => m.name);
