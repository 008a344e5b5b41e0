/** A workgroup sum/max of one f32 per invocation, shared by the per-channel and per-row fused kernels. */

/** WGSL for `wgSum(lid, v)` and `wgMax(lid, v)` over a workgroup of `size` invocations (a power of two). */
export function workgroupReducers(size: number): string {
  const make = (name: string, combine: string) => `
fn ${name}(lid: u32, v: f32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var s = ${size / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { let a = red[lid]; let b = red[lid + s]; red[lid] = ${combine}; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}`;
  return `var<workgroup> red: array<f32, ${size}>;
${make('wgSum', 'a + b')}
${make('wgMax', 'select(max(a, b), f32Nan(), isNan(a) || isNan(b))')}`;
}
