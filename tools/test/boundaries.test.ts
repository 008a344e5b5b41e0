import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkBoundaries, importsOf } from '../boundaries.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

function tree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'nabla-boundaries-'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const manifest = (name: string, deps: string[] = [], exports: string[] = ['.']) =>
  JSON.stringify({
    name,
    dependencies: Object.fromEntries(deps.map((d) => [d, '0.1.0'])),
    exports: Object.fromEntries(exports.map((e) => [e, `./dist/${e}.js`])),
  });

describe('import boundaries', () => {
  it("hold in this repository's packages", () => {
    expect(checkBoundaries(repo)).toEqual([]);
  });

  it('report a layer imported upwards, a deep import, an undeclared package and an escaping path', () => {
    const root = tree({
      'packages/core/package.json': manifest('@nabla/core'),
      'packages/core/src/index.ts': "import { x } from '@nabla/backend-cpu';\nexport const y = x;\n",
      'packages/backend-cpu/package.json': manifest(
        '@nabla/backend-cpu',
        ['@nabla/core'],
        ['.', './manifest'],
      ),
      'packages/backend-cpu/src/index.ts': [
        "import { Tensor } from '@nabla/core/src/tensor.js';",
        "import { relu } from '@nabla/nn';",
        "import { z } from '../../core/src/index.js';",
        "// import { fine } from '@nabla/optim';",
        "export const lazy = () => import('@nabla/backend-cpu');",
      ].join('\n'),
      'packages/nn/package.json': manifest('@nabla/nn', ['@nabla/core']),
      'packages/nn/src/index.ts':
        "export { tensor } from '@nabla/core';\nimport m from '@nabla/backend-cpu/manifest';\n",
    });
    const problems: string[] = checkBoundaries(root);
    expect(problems).toEqual([
      "packages/backend-cpu/src/index.ts: '@nabla/core/src/tensor.js' reaches into @nabla/core; import what it exports",
      'packages/backend-cpu/src/index.ts: imports @nabla/nn, which package.json does not depend on',
      'packages/backend-cpu/src/index.ts: @nabla/backend-cpu may import @nabla/core, not @nabla/nn',
      "packages/backend-cpu/src/index.ts: '../../core/src/index.js' leaves the package's src/",
      'packages/core/src/index.ts: imports @nabla/backend-cpu, which package.json does not depend on',
      'packages/core/src/index.ts: @nabla/core may import no other @nabla package, not @nabla/backend-cpu',
      'packages/nn/src/index.ts: imports @nabla/backend-cpu, which package.json does not depend on',
    ]);
  });

  it('keep @nabla/test-kit out of a published package (its src/ and its dependencies), not its tests', () => {
    const root = tree({
      'packages/core/package.json': manifest('@nabla/core'),
      'packages/test-kit/package.json': JSON.stringify({
        name: '@nabla/test-kit',
        private: true,
        dependencies: { '@nabla/core': '0.1.0' },
        exports: { '.': './src/index.ts' },
      }),
      'packages/test-kit/src/index.ts': "export { tensor } from '@nabla/core';\n",
      'packages/nn/package.json': manifest('@nabla/nn', ['@nabla/core', '@nabla/test-kit']),
      'packages/nn/src/index.ts': "import { rng } from '@nabla/test-kit';\nexport const r = rng(1);\n",
      'packages/nn/test/a.test.ts': "import { rng } from '@nabla/test-kit';\n",
      'packages/optim/package.json': manifest('@nabla/optim', ['@nabla/core']),
      'packages/optim/src/index.ts': "export { tensor } from '@nabla/core';\n",
      'packages/optim/test/a.test.ts': "import { rng } from '@nabla/test-kit';\n",
      'packages/conformance/package.json': JSON.stringify({
        name: '@nabla/conformance',
        private: true,
        dependencies: { '@nabla/test-kit': '0.1.0' },
      }),
      'packages/conformance/src/index.ts': "export { rng } from '@nabla/test-kit';\n",
    });
    expect(checkBoundaries(root)).toEqual([
      'packages/nn/package.json: @nabla/test-kit is for tests; list it under devDependencies',
      "packages/nn/src/index.ts: @nabla/test-kit is for tests; a published package's src/ must not import it",
    ]);
  });

  it('finds static, dynamic, side-effect and re-export specifiers, not comments or messages', () => {
    const text = [
      "import a from 'a';",
      "export { b } from 'b';",
      "import 'c';",
      "const d = await import('d');",
      '/* import e from "e"; */',
      "// import f from 'f';",
      // a message naming a package built from a variable is not an import
      "throw new Error(`import '@nabla/backend-$" + "{name}' first`);",
    ].join('\n');
    expect(importsOf(text)).toEqual(['a', 'b', 'c', 'd']);
  });
});
