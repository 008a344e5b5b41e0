// Entry point of a small test module (not part of the package's kernels): applies one of the
// vmath functions to a float32 array, so scripts/ulp-report.mjs can measure them against
// float64. `vector` 0 runs the scalar versions, 1 the f32x4 versions (n a multiple of 4).
import { serf, sexp, slog, slog1p, ssigmoid, stanh, verf, vexp, vlog, vlog1p, vsigmoid, vtanh } from '../vmath';

export function apply(fn: i32, vector: i32, src: usize, dst: usize, n: i32): void {
  if (vector != 0) {
    for (let i = 0; i < n; i += 4) {
      const p = <usize>i << 2;
      const x = v128.load(src + p);
      let y = x;
      if (fn == 0) y = vexp(x);
      else if (fn == 1) y = vlog(x);
      else if (fn == 2) y = vlog1p(x);
      else if (fn == 3) y = vtanh(x);
      else if (fn == 4) y = verf(x);
      else if (fn == 5) y = vsigmoid(x);
      v128.store(dst + p, y);
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const p = <usize>i << 2;
    const x = load<f32>(src + p);
    let y = x;
    if (fn == 0) y = sexp(x);
    else if (fn == 1) y = slog(x);
    else if (fn == 2) y = slog1p(x);
    else if (fn == 3) y = stanh(x);
    else if (fn == 4) y = serf(x);
    else if (fn == 5) y = ssigmoid(x);
    store<f32>(dst + p, y);
  }
}
