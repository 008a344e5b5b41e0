// Release smoke test: packs every public package (what `npm publish` would upload), installs the
// tarballs into an empty temporary project, then imports them from ESM and from CommonJS and
// trains a tiny model on cpu and wasm. Run after `npm run build`.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packAll, publicPackages } from './packages.mjs';

const started = performance.now();
const elapsed = () => `${((performance.now() - started) / 1000).toFixed(1)} s`;
const work = mkdtempSync(join(tmpdir(), 'nabla-pack-smoke-'));
const keep = process.argv.includes('--keep');

// One program, written once, run both as ESM (`import`) and as CJS (`require`): `load` is the
// only difference. It checks every package's entry point resolves and trains on cpu and wasm.
const body = (load) => `
const assert = require_assert();
async function main() {
  const core = await ${load('@nabla/core')};
  await ${load('@nabla/backend-cpu')};
  await ${load('@nabla/backend-wasm')};
  const webgpu = await ${load('@nabla/backend-webgpu')};
  const { Sequential, Linear, BatchNorm1d, ReLU } = await ${load('@nabla/nn')};
  const { Adam } = await ${load('@nabla/optim')};
  const { save, fromSafetensors } = await ${load('@nabla/interop')};
  const nabla = await ${load('nabla')};
  assert(typeof webgpu.createWebGpuBackend === 'function', 'backend-webgpu exports createWebGpuBackend');
  assert(nabla.nn.Linear === Linear, 'nabla.nn re-exports @nabla/nn (one copy of each package)');
  assert(nabla.tensor === core.tensor, 'nabla re-exports @nabla/core (one copy of each package)');
  for (const name of ['cpu', 'wasm']) {
    await core.setBackend(name);
    core.manualSeed(0);
    const model = new Sequential(new Linear(4, 16), new BatchNorm1d(16), new ReLU(), new Linear(16, 1));
    const opt = new Adam(model.parameters(), { lr: 0.02 });
    const x = core.randn([64, 4]);
    const y = core.tidy(() => x.sum(1, true));
    const step = () => core.tidy(() => {
      opt.zeroGrad();
      const loss = model.forward(x).sub(y).square().mean();
      loss.backward();
      opt.step();
      return loss.dataSync()[0];
    });
    const first = step();
    for (let i = 0; i < 60; i++) step();
    const last = step();
    assert(last < first * 0.2, name + ': loss fell from ' + first + ' to only ' + last);
    // Linear weight+bias twice, BatchNorm1d weight, bias, running_mean, running_var, num_batches_tracked.
    const entries = Object.keys(fromSafetensors(await save(model)));
    assert(entries.length === 9, name + ': safetensors round trip gave ' + entries.join(', '));
    console.log('  ' + MODE + ' ' + name + ': loss ' + first.toFixed(3) + ' -> ' + last.toFixed(4));
  }
}
function require_assert() {
  return (ok, message) => { if (!ok) throw new Error('pack-smoke: ' + message); };
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;

// The umbrella alone: `nabla` must load each backend package on the first setBackend.
const umbrella = (load) => `
async function main() {
  const n = await ${load('nabla')};
  const before = n.listBackends().join(',');
  if (before !== 'wasm,cpu,webgpu') throw new Error('pack-smoke: nabla registered ' + before);
  for (const name of ['wasm', 'cpu']) {
    const backend = await n.setBackend(name);
    if ((await n.setBackend(name)) !== backend) throw new Error('pack-smoke: ' + name + ' started twice');
    const model = new n.nn.Sequential(new n.nn.Linear(3, 8), new n.nn.ReLU(), new n.nn.Linear(8, 1));
    const opt = new n.optim.SGD(model.parameters(), { lr: 0.05 });
    const x = n.randn([32, 3]);
    const y = n.tidy(() => x.sum(1, true));
    const step = () => n.tidy(() => {
      opt.zeroGrad();
      const loss = model.forward(x).sub(y).square().mean();
      loss.backward();
      opt.step();
      return loss.dataSync()[0];
    });
    const first = step();
    for (let i = 0; i < 60; i++) step();
    const last = step();
    if (!(last < first * 0.5)) throw new Error('pack-smoke: nabla on ' + name + ' did not learn: ' + first + ' -> ' + last);
    console.log('  ' + MODE + ' nabla ' + name + ': loss ' + first.toFixed(3) + ' -> ' + last.toFixed(4));
  }
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
`;

try {
  const packages = publicPackages();
  const tarballs = [...packAll(packages, work).values()];
  console.log(`packed ${tarballs.length} packages (${elapsed()})`);

  const project = join(work, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'smoke', private: true }, null, 2));
  const install = (...flags) =>
    execFileSync('npm', ['install', ...flags, '--no-audit', '--no-fund', '--loglevel=error', ...tarballs], {
      cwd: project,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  try {
    install('--offline');
  } catch {
    // An external dependency (webgpu) missing from the npm cache: let npm fetch it.
    console.log('offline install failed; retrying with --prefer-offline');
    install('--prefer-offline');
  }
  console.log(`installed the tarballs into an empty project (${elapsed()})`);

  writeFileSync(join(project, 'smoke.mjs'), `const MODE = 'esm';\n${body((n) => `import('${n}')`)}`);
  writeFileSync(
    join(project, 'smoke.cjs'),
    `const MODE = 'cjs';\n${body((n) => `Promise.resolve(require('${n}'))`)}`,
  );
  writeFileSync(join(project, 'umbrella.mjs'), `const MODE = 'esm';\n${umbrella((n) => `import('${n}')`)}`);
  writeFileSync(
    join(project, 'umbrella.cjs'),
    `const MODE = 'cjs';\n${umbrella((n) => `Promise.resolve(require('${n}'))`)}`,
  );
  for (const file of ['smoke.mjs', 'smoke.cjs', 'umbrella.mjs', 'umbrella.cjs']) {
    execFileSync(process.execPath, [file], { cwd: project, stdio: 'inherit' });
  }
  console.log(`pack-smoke: ok (${elapsed()})`);
} finally {
  if (keep) console.log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
