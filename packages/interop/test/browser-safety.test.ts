/** The package must load in a browser: no static Node imports anywhere in its sources. */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

describe('browser safety', () => {
  it('no source file imports a Node built-in statically', () => {
    const files = sources(src);
    expect(files.length).toBeGreaterThan(5);
    const offenders = files.filter((f) =>
      /^\s*import\s[^;]*from\s+['"](node:|(fs|path|os|url|crypto)(\/[^'"]*)?['"])/m.test(
        readFileSync(f, 'utf8').replace(/import type[^;]*;/g, ''),
      ),
    );
    expect(offenders).toEqual([]);
  });
});
