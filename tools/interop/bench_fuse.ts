/**
 * Times W4-shaped inference (MLP 784-512-BN-ReLU-256-BN-ReLU-10, batch 1024, eval) with and
 * without `fuseBatchNorm`, on the backends named in argv (default cpu). A quick check, not
 * the benchmark harness (bench/ owns that):
 *   npx turbo run build --filter=@nabla/interop... && npx tsx tools/interop/bench_fuse.ts cpu wasm
 */
import '@nabla/backend-cpu';
import { manualSeed, randn, setBackend, tidy } from '@nabla/core';
import { fuseBatchNorm } from '@nabla/interop';
import { BatchNorm1d, Linear, type Module, ReLU, Sequential } from '@nabla/nn';

const names = process.argv.slice(2);
for (const name of names.length ? names : ['cpu']) {
  if (name !== 'cpu') await import(/* @vite-ignore */ `@nabla/backend-${name}`);
  await setBackend(name);
  manualSeed(0);
  const model = new Sequential(
    new Linear(784, 512),
    new BatchNorm1d(512),
    new ReLU(),
    new Linear(512, 256),
    new BatchNorm1d(256),
    new ReLU(),
    new Linear(256, 10),
  );
  tidy(() => void model.forward(randn([256, 784]))); // non-trivial running statistics
  model.eval();
  const fused = fuseBatchNorm(model);
  const x = randn([1024, 784]);
  // Interleaved, so load from other processes hits both variants alike.
  const once = async (m: Module) => {
    const t0 = performance.now();
    const y = m.forward(x);
    await y.data();
    y.dispose();
    return performance.now() - t0;
  };
  const times: [number[], number[]] = [[], []];
  for (let i = 0; i < 13; i++) {
    const a = await once(model);
    const b = await once(fused);
    if (i >= 3) {
      times[0].push(a); // 3 warm-up rounds
      times[1].push(b);
    }
  }
  const median = (v: number[]) => v.sort((p, q) => p - q)[v.length >> 1];
  const plain = median(times[0]);
  const fast = median(times[1]);
  console.log(
    `${name}: W4 unfused median ${plain.toFixed(1)} ms (${((1024 / plain) * 1000).toFixed(0)} samples/s), ` +
      `fused ${fast.toFixed(1)} ms (${((1024 / fast) * 1000).toFixed(0)} samples/s), speed-up ${(plain / fast).toFixed(2)}x`,
  );
  x.dispose();
  model.dispose();
  fused.dispose();
}
