/**
 * Writes packages/interop/test/fixtures/nabla_mlp.safetensors (an MLP trained a few steps in
 * Nabla, saved with `save`) and nabla_mlp.json (fixed inputs and Nabla's eval outputs).
 * Then `/usr/bin/python3 tools/interop/torch_roundtrip.py --check-nabla` records PyTorch's
 * outputs for the same file. Run from the repository root after a build:
 *   npx turbo run build --filter=@nabla/interop... && npx tsx tools/interop/make_nabla_fixture.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '@nabla/backend-cpu';
import { manualSeed, noGrad, randn, setBackend, softmaxCrossEntropy, tidy } from '@nabla/core';
import { save } from '@nabla/interop';
import { fixturesDir, makeMlp } from '../../packages/interop/test/mlp.js';

await setBackend('cpu');
manualSeed(11);
const model = makeMlp();
for (let step = 0; step < 40; step++) {
  tidy(() => {
    const x = randn([16, 6]).mul(1.5).add(0.3);
    const y = x.slice(1, 0, 3).argmax(1); // learnable labels, so the logits grow away from 0
    const loss = softmaxCrossEntropy(model.forward(x), y).mean();
    model.zeroGrad();
    loss.backward();
    noGrad(() => {
      for (const p of model.parameters()) p.assign(p.sub(p.grad!.mul(0.1)));
    });
  });
}
model.eval();
const x = randn([5, 6]).mul(1.5).add(0.3);
const out = model.forward(x);
const fx = async (t: typeof x) => ({ shape: [...t.shape], data: Array.from(await t.data()) });
await save(model, join(fixturesDir, 'nabla_mlp.safetensors'));
writeFileSync(
  join(fixturesDir, 'nabla_mlp.json'),
  `${JSON.stringify({ input: await fx(x), output: await fx(out) }, null, 1)}\n`,
);
console.log('wrote nabla_mlp.safetensors and nabla_mlp.json');
