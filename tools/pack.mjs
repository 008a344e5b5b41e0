// `npm run pack`: builds, then packs every public package (what `npm publish` would upload) into
// one folder, `packed/` (or the folder given as the first argument), and says how to install them.
// Until Nabla is on the npm registry, these tarballs are how another project installs it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { packAll, publicPackages, root } from './pack-smoke/packages.mjs';

const arg = process.argv[2];
const dest = arg
  ? isAbsolute(arg)
    ? arg
    : resolve(process.env.INIT_CWD ?? process.cwd(), arg)
  : join(root, 'packed');
execFileSync(process.execPath, [join(root, 'tools', 'build-quiet.mjs')], { stdio: 'inherit' });
mkdirSync(dest, { recursive: true });
// Old tarballs of a previous version would otherwise sit beside the new ones.
for (const f of readdirSync(dest)) if (f.endsWith('.tgz')) rmSync(join(dest, f));
const tarballs = packAll(publicPackages(), dest);
const shown = dest;
console.log(`packed ${tarballs.size} packages into ${dest}:`);
for (const [name, file] of tarballs) console.log(`  ${name.padEnd(24)} ${relative(dest, file)}`);
console.log(`
install them into another project (all together, so each finds the others; the paths are saved
in its package.json as file: dependencies):
  npm install ${shown}/*.tgz`);
