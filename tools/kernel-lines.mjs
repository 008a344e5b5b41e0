// Counts the backends' kernel code by kind, for issue "Kernels as data" (hand-written kernel
// code ≥30% fewer lines). A line counts when it is not blank and does not start with `//`,
// `*` or `/*` (comments and TSDoc). Scope: each backend's src/, wasm's assembly/ and
// scripts/gen-kernels.mjs; generated files (`generated/`) and the ulp probe are not counted.
// `node tools/kernel-lines.mjs [root]` prints each kind's total and the grand total; `root`
// (default: this checkout) may be an older tree, e.g. `git archive acfc6b6 packages | tar -x -C
// /tmp/old`, the commit the issue was filed at (3,378 / 118 / 2,085 lines).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));

/** Each kind, as tests on a file's path relative to its package (first match wins). */
const KINDS = [
  [
    'hand-written kernels',
    [
      /^src\/kernels\/(matmul|batchnorm|indexing|softmax-cross-entropy|reduce|reduce-wg|fill|strided)\.ts$/,
      // files of older trees: per-op elementwise tables and fused kernels, since made programs
      /^src\/kernels\/(elementwise|gather|linear|optimizer|optim|fused|softmax-ce)\.ts$/,
      /^assembly\/(fused|indexing|matmul|tile|scalar|misc)\.ts$/,
      /^scripts\/gen-kernels\.mjs$/,
    ],
  ],
  [
    'renderers of the expression format',
    [
      /^src\/kernels\/(pointwise[\w-]*|reduce-program|reduce-jit|codegen|wgsl[\w-]*|simd-opcodes)\.ts$/,
      /^assembly\/(pointwise|vmath)\.ts$/,
    ],
  ],
  [
    'runtime',
    [
      /^src\/(backend|buffer|cpu-backend|cpu-buffer|allocator|pool|runtime|device[\w-]*|module|threading|worker-source|index|manifest)\.ts$/,
      /^assembly\/index\.ts$/,
    ],
  ],
];

const PACKAGES = ['backend-cpu', 'backend-wasm', 'backend-webgpu'];

function files(dir) {
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return [];
  }
  return entries.flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : files(path);
    return [path];
  });
}

const counted = (text) =>
  text.split('\n').filter((line) => {
    const t = line.trim();
    return t !== '' && !t.startsWith('//') && !t.startsWith('*') && !t.startsWith('/*');
  }).length;

const totals = new Map(KINDS.map(([kind]) => [kind, 0]));
const unsorted = []; // files no kind names: listed, so a new file is not missed silently
for (const pkg of PACKAGES) {
  const base = join(root, 'packages', pkg);
  const paths = [
    ...files(join(base, 'src')),
    ...files(join(base, 'assembly')),
    join(base, 'scripts/gen-kernels.mjs'),
  ];
  for (const path of paths) {
    const rel = relative(base, path).split('\\').join('/');
    if (!/\.(ts|mjs)$/.test(rel) || !statSync(path, { throwIfNoEntry: false })) continue;
    const kind = KINDS.find(([, tests]) => tests.some((re) => re.test(rel)))?.[0];
    if (kind === undefined) unsorted.push(`${pkg}/${rel}`);
    else totals.set(kind, totals.get(kind) + counted(readFileSync(path, 'utf8')));
  }
}
let all = 0;
for (const [kind, n] of totals) {
  console.log(`${kind.padEnd(36)} ${String(n).padStart(6)}`);
  all += n;
}
console.log(`${'total'.padEnd(36)} ${String(all).padStart(6)}`);
if (unsorted.length > 0) console.log(`not counted: ${unsorted.join(', ')}`);
