// Package hygiene for every public package: publint (strict: warnings fail too) and
// @arethetypeswrong/cli on the packed tarball (ESM, CJS and types resolve under node10, node16
// from CJS and from ESM, and bundler), plus the manifest fields a published package needs.
// Run after `npm run build`; both tools read the same tarballs `npm pack` makes.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { packAll, publicPackages, root } from './packages.mjs';

const run = promisify(execFile);

/** Manifest fields checked here because publint treats them as optional. */
function manifestProblems(pkg) {
  const m = pkg.manifest;
  const problems = [];
  if (!m.engines?.node) problems.push('"engines.node" is not set');
  if (!Array.isArray(m.files) || !m.files.includes('dist')) problems.push('"files" does not list "dist"');
  if (m.sideEffects === undefined) problems.push('"sideEffects" is not declared');
  if (!m.license) problems.push('"license" is not set');
  if (!m.description) problems.push('"description" is not set');
  if (!existsSync(join(pkg.dir, 'README.md'))) problems.push('README.md is missing');
  // "sideEffects": false lets bundlers drop an import whose exports go unused; an entry that
  // registers a backend on import would then silently register nothing.
  const entry = join(pkg.dir, m.module ?? 'dist/index.js');
  if (
    m.sideEffects === false &&
    existsSync(entry) &&
    /registerBackend\(\s*['"]/.test(readFileSync(entry, 'utf8'))
  ) {
    problems.push('"sideEffects": false, but the entry registers a backend when imported');
  }
  return problems;
}

async function check(pkg, tarball) {
  const problems = manifestProblems(pkg);
  const bytes = readFileSync(tarball);
  const lint = await publint({
    pack: { tarball: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) },
    strict: true,
  });
  for (const message of lint.messages) {
    problems.push(`publint ${message.type}: ${formatMessage(message, lint.pkg) ?? message.code}`);
  }
  try {
    await run(join(root, 'node_modules', '.bin', 'attw'), [tarball, '--format', 'ascii']);
  } catch (e) {
    problems.push(`attw failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`.trim());
  }
  return problems;
}

const started = performance.now();
const dest = mkdtempSync(join(tmpdir(), 'nabla-hygiene-'));
let failed = 0;
try {
  const packages = publicPackages();
  const tarballs = packAll(packages, dest);
  // Two at a time: the machines running this have few cores.
  for (let i = 0; i < packages.length; i += 2) {
    const batch = packages.slice(i, i + 2);
    const results = await Promise.all(batch.map((p) => check(p, tarballs.get(p.name))));
    batch.forEach((pkg, j) => {
      if (results[j].length === 0) {
        console.log(`ok   ${pkg.name}`);
      } else {
        failed++;
        console.log(`FAIL ${pkg.name}\n  ${results[j].join('\n  ')}`);
      }
    });
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `hygiene: ${packages.length - failed}/${packages.length} packages pass publint, attw and manifest checks (${seconds} s)`,
  );
} finally {
  rmSync(dest, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
