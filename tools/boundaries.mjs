// Import boundaries of the packages' sources (run by `npm run lint`):
// - a package imports another @nabla package only through what that package exports (its
//   name, or a subpath listed in its "exports"), never its files, and only if its package.json
//   depends on it;
// - core imports no other @nabla package, and a backend imports only @nabla/core: the layering
//   core ← backends, nn, optim ← interop ← nabla;
// - a relative import stays inside its own package's src/;
// - @nabla/test-kit (private, never published) is for tests: a published package's src/ does not
//   import it and only lists it under devDependencies (the private conformance suite may use it).
// `checkBoundaries(root)` returns the violations; run as a script it prints them and fails.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Packages allowed to depend on nothing of ours, or only on core. */
const ONLY = { '@nabla/core': [], '@nabla/backend-': ['@nabla/core'] };

/** The tests' helpers: only test code, and private packages, may import it. */
const TEST_KIT = '@nabla/test-kit';

const SPECIFIER =
  /(?:^|[^\w.])(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[^\w.])import\s*\(\s*['"]([^'"]+)['"]\s*\)|(?:^|[^\w.])import\s+['"]([^'"]+)['"]/g;

function sourceFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

/** Every import specifier in `text`, outside comments (a `${...}` in a message is not one). */
export function importsOf(text) {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[\s;])\/\/.*$/gm, '$1');
  const found = [];
  for (const m of code.matchAll(SPECIFIER)) {
    const spec = m[1] ?? m[2] ?? m[3];
    if (!spec.includes('${')) found.push(spec);
  }
  return found;
}

/** The violations under `root`'s packages/ as `file: message` lines. */
export function checkBoundaries(root) {
  const packagesDir = join(root, 'packages');
  const manifests = new Map();
  for (const name of readdirSync(packagesDir)) {
    const file = join(packagesDir, name, 'package.json');
    if (existsSync(file)) manifests.set(name, JSON.parse(readFileSync(file, 'utf8')));
  }
  const byName = new Map([...manifests.values()].map((m) => [m.name, m]));
  const problems = [];
  for (const [dir, manifest] of manifests) {
    const src = join(packagesDir, dir, 'src');
    if (!existsSync(src)) continue;
    const declared = new Set(Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies }));
    if (!manifest.private && declared.has(TEST_KIT))
      problems.push(`packages/${dir}/package.json: ${TEST_KIT} is for tests; list it under devDependencies`);
    const only = Object.entries(ONLY).find(([prefix]) =>
      prefix.endsWith('-') ? manifest.name.startsWith(prefix) : manifest.name === prefix,
    )?.[1];
    for (const file of sourceFiles(src)) {
      const where = relative(root, file).split(sep).join('/');
      for (const spec of importsOf(readFileSync(file, 'utf8'))) {
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(src + sep)) problems.push(`${where}: '${spec}' leaves the package's src/`);
          continue;
        }
        const ours = spec.startsWith('@nabla/') || spec === 'nabla' || spec.startsWith('nabla/');
        if (!ours) continue;
        const parts = spec.split('/');
        const pkg = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
        const sub = spec.slice(pkg.length);
        const target = byName.get(pkg);
        if (pkg === manifest.name && !sub) continue; // a package may load its own entry (a lazy manifest does)
        if (pkg === TEST_KIT && !manifest.private) {
          problems.push(`${where}: ${TEST_KIT} is for tests; a published package's src/ must not import it`);
          continue;
        }
        if (!target) {
          problems.push(`${where}: '${spec}' is not a package of this repository`);
          continue;
        }
        if (sub && !Object.hasOwn(target.exports ?? {}, `.${sub}`))
          problems.push(`${where}: '${spec}' reaches into ${pkg}; import what it exports`);
        if (!declared.has(pkg))
          problems.push(`${where}: imports ${pkg}, which package.json does not depend on`);
        if (only && !only.includes(pkg))
          problems.push(
            `${where}: ${manifest.name} may import ${only.length ? only.join(', ') : 'no other @nabla package'}, not ${pkg}`,
          );
      }
    }
  }
  return problems;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
  const problems = checkBoundaries(root);
  for (const p of problems) console.error(p);
  if (problems.length) {
    console.error(`import boundaries: ${problems.length} violation(s)`);
    process.exit(1);
  }
}
