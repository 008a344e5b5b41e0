/**
 * Finding a WebGPU device: `navigator.gpu` in browsers (and Deno), Dawn's `webgpu` npm
 * package in Node. The npm package is imported lazily, only here, so importing this
 * backend never fails where WebGPU is missing; only `setBackend('webgpu')` does, with an
 * error that says what is missing.
 */

/** What {@link acquireDevice} found. */
export interface AcquiredDevice {
  readonly device: GPUDevice;
  readonly adapterName: string;
  /** Dawn's `GPU` object in Node: must stay referenced while the device lives, or the process aborts. */
  readonly keepAlive: unknown;
}

/** Options of {@link acquireDevice}. */
export interface DeviceOptions {
  readonly powerPreference?: GPUPowerPreference;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/**
 * Dawn's GPU object, created once and kept reachable from module scope for the life of the
 * process: if it were garbage-collected while a device lives, Dawn aborts the process.
 */
let dawnGpu: GPU | null = null;

/** The limits a compute-only backend benefits from; each is requested at the adapter's maximum. */
const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
] as const;

function nodeHint(): string {
  return (
    'In Node, WebGPU comes from the npm package "webgpu" (Dawn), which needs a Vulkan driver: ' +
    'install one (on Debian/Ubuntu without a GPU: `apt-get install -y chromium libvulkan1`, whose ' +
    'chromium ships the SwiftShader software driver) and point the loader at it with ' +
    '`export VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json`; with an NVIDIA/AMD/Intel GPU, ' +
    "install the vendor's Vulkan driver (ICD)."
  );
}

async function findGpu(): Promise<{ gpu: GPU; keepAlive: unknown }> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return { gpu: nav.gpu, keepAlive: null };
  if (!isNode) {
    throw new Error(
      'WebGPU backend: navigator.gpu is missing, so this browser has no WebGPU. Use a browser with ' +
        'WebGPU enabled (Chrome/Edge 113+, Safari 26+, or Chromium with --enable-unsafe-webgpu), ' +
        "or pick another backend with setBackend('wasm') or setBackend('cpu').",
    );
  }
  // A variable module name keeps bundlers from resolving (and failing on) the Node-only package.
  const moduleName = 'webgpu';
  let mod: { create: (flags: string[]) => GPU };
  try {
    mod = (await import(/* @vite-ignore */ moduleName)) as typeof mod;
  } catch (err) {
    throw new Error(
      `WebGPU backend: navigator.gpu is absent and the optional npm package "webgpu" could not be ` +
        `loaded (${(err as Error).message}). Install it with \`npm install webgpu\`. ${nodeHint()}`,
    );
  }
  dawnGpu ??= mod.create([]);
  return { gpu: dawnGpu, keepAlive: dawnGpu };
}

/** Finds an adapter and opens a device with the adapter's limits (not the defaults). */
export async function acquireDevice(options: DeviceOptions = {}): Promise<AcquiredDevice> {
  const { gpu, keepAlive } = await findGpu();
  const adapter = await gpu.requestAdapter({
    powerPreference: options.powerPreference ?? 'high-performance',
  });
  if (!adapter) {
    throw new Error(
      `WebGPU backend: no GPU adapter was found (requestAdapter() returned null). ${
        isNode ? nodeHint() : 'Enable WebGPU in the browser (chrome://gpu shows why it is off).'
      }`,
    );
  }
  const requiredLimits: Record<string, number> = {};
  const limits = adapter.limits as unknown as Record<string, number>;
  for (const name of WANTED_LIMITS) {
    const value = limits[name];
    if (typeof value === 'number') requiredLimits[name] = value;
  }
  const device = await adapter.requestDevice({ requiredLimits });
  const info = adapter.info;
  const adapterName =
    [info?.vendor, info?.architecture, info?.device, info?.description].filter((s) => s).join(' ') ||
    'unknown adapter';
  return { device, adapterName, keepAlive };
}
