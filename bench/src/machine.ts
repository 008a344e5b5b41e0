/** Facts about the machine a run was taken on, for the report. */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, release, totalmem } from 'node:os';

/** What the report prints about the machine. */
export interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly mhz: number | null;
  readonly flags: string;
  readonly mem_gib: number;
  readonly node: string;
  readonly os: string;
}

/** Reads /proc/cpuinfo where it exists and falls back on `os.cpus()`. */
export function machineInfo(): MachineInfo {
  let flags = '';
  let mhz: number | null = null;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const f = /^flags\s*:\s*(.*)$/m.exec(info)?.[1].split(' ') ?? [];
    // the SIMD features that decide kernel speed; the full list is noise
    flags = f
      .filter((x) => /^(avx|avx2|fma|avx512f|avx512bw|avx512vl|avx512_vnni|amx_tile|avx512_fp16)$/.test(x))
      .join(' ');
    const m = /^cpu MHz\s*:\s*([\d.]+)/m.exec(info);
    mhz = m ? Number(m[1]) : null;
  } catch {
    // not Linux: leave the details empty
  }
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    mhz,
    flags,
    mem_gib: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${process.platform} ${release()}`,
  };
}
