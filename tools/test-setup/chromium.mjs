// Headless Chromium as the browser tests, the playground screenshot and the WebGPU browser smoke
// run it: Debian's binary with WebGPU enabled (on SwiftShader's Vulkan driver where no GPU is)
// and without the background traffic a first start makes.

/** Debian's chromium (`apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';

/** Its Vulkan-on-CPU driver: WebGPU without a GPU. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** The command-line flags every headless run uses. */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
