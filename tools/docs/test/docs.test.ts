// Runs every ```ts block of docs/*.md on the cpu backend, so the docs cannot drift from the API:
// each block is type-checked (one tsc run over all of them), transpiled with esbuild and executed
// by node as its own ES module. A ```text block right after a ts block must equal its stdout.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { transformSync } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docBlocks, extractBlocks } from '../extract.mjs';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../../..');
// Inside the repository, so `@nabla/*` and `nabla` resolve from its node_modules.
const runDir = join(root, 'tools/docs/.run');
const blocks = docBlocks(join(root, 'docs'));
const runnable = blocks.filter((b) => b.run);
const nameOf = (b: { file: string; line: number }) =>
  `${b.file.replace(/^docs\//, '').replace(/\.md$/, '')}-L${b.line}`;
let cwd = '';

beforeAll(() => {
  rmSync(runDir, { recursive: true, force: true });
  mkdirSync(runDir, { recursive: true });
  cwd = mkdtempSync(join(tmpdir(), 'nabla-docs-')); // blocks that write files write here
  for (const b of runnable) {
    writeFileSync(join(runDir, `${nameOf(b)}.mts`), b.code);
    const js = transformSync(b.code, { loader: 'ts', format: 'esm', target: 'es2022', sourcefile: b.file });
    writeFileSync(join(runDir, `${nameOf(b)}.mjs`), js.code);
  }
  writeFileSync(
    join(runDir, 'tsconfig.json'),
    JSON.stringify({
      extends: '../../../tsconfig.base.json',
      compilerOptions: {
        noEmit: true,
        declaration: false,
        sourceMap: false,
        allowImportingTsExtensions: true,
      },
      include: ['*.mts'],
    }),
  );
});

afterAll(() => {
  if (cwd) rmSync(cwd, { recursive: true, force: true });
  // Generated sources are kept only on request (NABLA_DOCS_KEEP=1), so linters never see them.
  if (!process.env.NABLA_DOCS_KEEP) rmSync(runDir, { recursive: true, force: true });
});

describe('extractBlocks', () => {
  it('finds ts blocks, their no-run flag, expected output and indented fences', () => {
    const md = [
      '# t',
      '```ts',
      'console.log(1);',
      '```',
      '',
      '```text',
      '1',
      '```',
      '```ts no-run',
      'window.alert(1);',
      '```',
      '1. step',
      '   ```ts',
      '   const x = 1;',
      '   ```',
      '```bash',
      'ls',
      '```',
    ].join('\n');
    const found = extractBlocks(md, 'docs/t.md');
    expect(found.map((b) => [b.line, b.run, b.expected, b.code])).toEqual([
      [2, true, '1\n', 'console.log(1);\n'],
      [9, false, null, 'window.alert(1);\n'],
      [13, true, null, 'const x = 1;\n'],
    ]);
  });

  it('rejects an unterminated block', () => {
    expect(() => extractBlocks('```ts\nconst a = 1;\n', 'docs/x.md')).toThrow(/docs\/x.md:1: unterminated/);
  });
});

describe('docs code blocks', () => {
  it('has runnable blocks in the docs', () => {
    expect(runnable.length).toBeGreaterThan(10);
  });

  it('type-checks every runnable block against the public packages', async () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    try {
      await run(process.execPath, [tsc, '-p', join(runDir, 'tsconfig.json')], { cwd: root });
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      throw new Error(
        `tsc reported errors in docs blocks (rerun with NABLA_DOCS_KEEP=1 to keep tools/docs/.run/<doc>-L<line>.mts):\n${err.stdout}${err.stderr}`,
      );
    }
  });

  it.concurrent.each(runnable.map((b) => [`${b.file}:${b.line}`, b] as const))('%s runs', async (_, b) => {
    const file = join(runDir, `${nameOf(b)}.mjs`);
    let stdout: string;
    try {
      ({ stdout } = await run(process.execPath, [file], {
        cwd,
        env: { ...process.env, NABLA_BACKEND: 'cpu' },
        timeout: 20_000,
      }));
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; message: string };
      throw new Error(`${b.file}:${b.line} failed:\n${err.stderr || err.message}\n--- block ---\n${b.code}`);
    }
    if (b.expected !== null) expect(stdout.trim(), `${b.file}:${b.line} output`).toBe(b.expected.trim());
  });
});
