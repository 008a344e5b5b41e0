// The public packages of the monorepo: every packages/*/package.json without "private": true.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const root = resolve(import.meta.dirname, '../..');

/** @returns {{ name: string, dir: string, manifest: any }[]} sorted by name */
export function publicPackages() {
  const dir = join(root, 'packages');
  return readdirSync(dir)
    .map((d) => {
      try {
        return {
          dir: join(dir, d),
          manifest: JSON.parse(readFileSync(join(dir, d, 'package.json'), 'utf8')),
        };
      } catch {
        return null;
      }
    })
    .filter((p) => p && !p.manifest.private)
    .map((p) => ({ name: p.manifest.name, ...p }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Packs every given package with one `npm pack` run into `dest`.
 * @returns {Map<string, string>} package name → absolute tarball path
 */
export function packAll(pkgs, dest) {
  const args = ['pack', '--json', '--pack-destination', dest, ...pkgs.flatMap((p) => ['-w', p.dir])];
  const out = execFileSync('npm', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return new Map(JSON.parse(out).map((info) => [info.name, join(dest, info.filename)]));
}
