// Extracts the ```ts blocks of the markdown files in docs/ so a test can run each one.
// A block whose info string says `no-run` (```ts no-run) is skipped; a ```text block right after
// a ```ts block is that block's expected stdout.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * @typedef {{ file: string, line: number, code: string, run: boolean, expected: string | null }} DocBlock
 */

/** @returns {DocBlock[]} the blocks of one markdown text, in order */
export function extractBlocks(markdown, file) {
  const lines = markdown.split('\n');
  /** @type {DocBlock[]} */
  const blocks = [];
  let last = null; // the most recent ts block, while only blank lines follow it
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\S*)\s*(.*)$/.exec(lines[i]);
    if (!open) {
      if (lines[i].trim() !== '') last = null;
      continue;
    }
    const [, indent, lang, info] = open;
    const body = [];
    let j = i + 1;
    while (j < lines.length && !new RegExp(`^${indent}\`\`\`\\s*$`).test(lines[j])) {
      body.push(lines[j].startsWith(indent) ? lines[j].slice(indent.length) : lines[j]);
      j++;
    }
    if (j === lines.length) throw new Error(`${file}:${i + 1}: unterminated code block`);
    const code = `${body.join('\n')}\n`;
    if (lang === 'ts' || lang === 'typescript') {
      last = { file, line: i + 1, code, run: !/\bno-run\b/.test(info), expected: null };
      blocks.push(last);
    } else if (lang === 'text' && last) {
      last.expected = code;
      last = null;
    } else {
      last = null;
    }
    i = j;
  }
  return blocks;
}

/** @returns {DocBlock[]} the ts blocks of every docs/*.md file (not the generated docs/api) */
export function docBlocks(docsDir) {
  return readdirSync(docsDir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .flatMap((f) => extractBlocks(readFileSync(join(docsDir, f), 'utf8'), `docs/${f}`));
}
