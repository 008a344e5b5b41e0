/**
 * What Ctrl-C says: the exact command that continues this run (every flag it needs, `--out`
 * included), and only for a checkpoint this process wrote or resumed from, never for an older
 * run's file that merely sits in the same folder.
 */
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Plan } from './cli.js';

/** A checkpoint written by this process. */
export interface Saved {
  path: string;
  epoch: number;
  runId: string;
}

/** How the user started the CLI: `npm run train -- …` at the repository root, else `npx nabla-train …`. */
export function invokedAs(env: Record<string, string | undefined>): string {
  return env.npm_lifecycle_event === 'train' ? 'npm run train --' : 'npx nabla-train';
}

/** `p` relative to `cwd` when inside it, quoted for a POSIX shell when needed. */
function shown(p: string, cwd: string): string {
  const r = relative(cwd, p) || '.';
  const path = r.startsWith('..') ? p : r;
  return /[^\w./-]/.test(path) ? `'${path.replaceAll("'", "'\\''")}'` : path;
}

/** The line printed on Ctrl-C (after "interrupted: "). */
export function interruptHint(
  planned: Plan | null,
  saved: Saved | null,
  cwd: string,
  command: string,
): string {
  if (!planned) return 'nothing had started';
  const resume = (checkpoint: string) =>
    `${command} ${planned.config.example} --resume ${shown(checkpoint, cwd)} --out ${shown(planned.outDir, cwd)}`;
  if (saved)
    return `epoch ${saved.epoch} of run ${saved.runId} is saved; continue with:\n  ${resume(saved.path)}`;
  if (planned.resume && planned.resumePath)
    return `no epoch finished since resuming; ${shown(planned.resumePath, cwd)} (epoch ${planned.resume.epoch}) is unchanged; continue with:\n  ${resume(planned.resumePath)}`;
  const old = join(planned.outDir, 'checkpoint.json');
  return `no epoch had finished, nothing was saved${existsSync(old) ? ` (${shown(old, cwd)} is from an earlier run)` : ''}`;
}
