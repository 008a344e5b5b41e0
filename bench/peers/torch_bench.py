#!/usr/bin/env python3
"""PyTorch CPU peer for the Nabla benchmark harness (spec v2, bench/workloads.json).

Run by bench/src/cli.ts as `<python> torch_bench.py --impl torch --cases W1,W3_AB [--warmup 5 --iters 30]`,
once with Debian's PyTorch 1.13 (`--impl torch`) and once with the 2.x CPU wheel in a venv
(`--impl torch2`); without --warmup/--iters each case takes its spec values (W5, W6: 20 and 200).
Prints one line `@@NABLA_BENCH_RESULT <json>` in the same shape as the JS workers
(bench/src/suite.ts SuiteResult). Written as a PyTorch user would: nn.Sequential,
nn.BatchNorm1d (training mode, running statistics), nn.CrossEntropyLoss, optim.SGD (W1) and
optim.Adam (W5, W6) with their defaults otherwise.
"""
import argparse
import json
import os
import statistics
import sys
import time

try:
    import numpy as np
except ImportError:  # reported as a skip in main()
    np = None

MARKER = "@@NABLA_BENCH_RESULT"
TICKS = os.sysconf("SC_CLK_TCK")
NCPU = os.cpu_count() or 1


def emit(obj):
    sys.stdout.write("\n" + MARKER + " " + json.dumps(obj) + "\n")
    sys.stdout.flush()


def read_proc():
    try:
        with open("/proc/stat") as f:
            cpu = [int(v) for v in f.readline().split()[1:]]
        busy = cpu[0] + cpu[1] + cpu[2] + cpu[5] + cpu[6] + (cpu[7] if len(cpu) > 7 else 0)
        with open("/proc/self/stat") as f:
            s = f.read()
        rest = s[s.rindex(")") + 2:].split(" ")
        return busy, int(rest[11]) + int(rest[12])
    except OSError:
        return None


def quantile(sorted_xs, q):
    pos = (len(sorted_xs) - 1) * q
    lo, hi = int(pos // 1), -int(-pos // 1)
    return sorted_xs[lo] + (sorted_xs[hi] - sorted_xs[lo]) * (pos - lo)


MIN_TIMED = 5


def time_loop(step, warmup, iters, warmup_cap_s=0.0, timed_cap_s=0.0):
    """Same loop as bench/src/timing.ts, including the optional time caps for slow code."""
    w0 = time.perf_counter()
    for _ in range(warmup):
        step()
        if warmup_cap_s and time.perf_counter() - w0 > warmup_cap_s:
            break
    samples = []
    p0 = read_proc()
    c0 = time.process_time()
    t_start = time.perf_counter()
    for i in range(iters):
        t0 = time.perf_counter()
        step()
        samples.append((time.perf_counter() - t0) * 1000)
        if timed_cap_s and i + 1 >= MIN_TIMED and time.perf_counter() - t_start > timed_cap_s:
            break
    wall = time.perf_counter() - t_start
    own_cores = (time.process_time() - c0) / wall
    p1 = read_proc()
    pct = None
    if p0 and p1:
        other = (p1[0] - p0[0]) - (p1[1] - p0[1])
        pct = min(100.0, max(0.0, 100.0 * other / (wall * TICKS * NCPU)))
    xs = sorted(samples)
    return {
        "samples_ms": samples,
        "stats": {
            "median_ms": quantile(xs, 0.5),
            "min_ms": xs[0],
            "p90_ms": quantile(xs, 0.9),
            "mean_ms": statistics.fmean(xs),
            "n": len(xs),
        },
        "other_cpu_pct": pct,
        "noisy": pct is not None and pct > 5,
        "own_cores": own_cores,
        "capped": len(samples) < iters,
    }


def blas_libraries(torch):
    """The BLAS/LAPACK shared objects actually mapped after a matmul (Debian's torch links the
    generic libblas.so.3, which the alternatives system points at OpenBLAS or the reference BLAS)."""
    a = torch.randn(64, 64)
    (a @ a).sum().item()
    with open("/proc/self/maps") as f:
        libs = {line.split()[-1] for line in f if ".so" in line and ("blas" in line or "lapack" in line)}
    return sorted(os.path.realpath(p) for p in libs)


# ---- inputs: the same numbers as bench/src/data.ts ------------------------------------------
# mulberry32's state after k draws is seed + k·0x6D2B79F5 (mod 2³²), so the stream vectorises.


def _imul(x, y):
    return ((x.astype(np.uint64) * y.astype(np.uint64)) & 0xFFFFFFFF).astype(np.uint32)


def rng_stream(n, seed):
    k = np.arange(1, n + 1, dtype=np.uint64)
    t = ((np.uint64(seed) + k * np.uint64(0x6D2B79F5)) & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    t = _imul(t ^ (t >> np.uint32(15)), t | np.uint32(1))
    t = t ^ (t + _imul(t ^ (t >> np.uint32(7)), t | np.uint32(61)))
    return (t ^ (t >> np.uint32(14))).astype(np.float64) / 4294967296.0


def randn(n, seed):
    pairs = (n + 1) // 2
    r = rng_stream(2 * pairs, seed)
    u = 1.0 - r[0::2]
    v = r[1::2]
    m = np.sqrt(-2.0 * np.log(u))
    out = np.empty(2 * pairs)
    out[0::2] = m * np.cos(2 * np.pi * v)
    out[1::2] = m * np.sin(2 * np.pi * v)
    return out[:n].astype(np.float32)


def uniform(n, bound, seed):
    return ((2.0 * rng_stream(n, seed) - 1.0) * bound).astype(np.float32)


def randint(n, k, seed):
    return np.floor(rng_stream(n, seed) * k).astype(np.int64)


def linear_init(fan_in, fan_out, seed):
    bound = 1.0 / np.sqrt(fan_in)
    return uniform(fan_in * fan_out, bound, seed).reshape(fan_out, fan_in), uniform(fan_out, bound, seed + 1)


FULL = {"mlp": [784, 512, 256, 10], "w1": 256, "w4": 1024, "w2a": [4096, 512], "w2b": [64, 128, 256], "w3": 1024,
        "W5": ([32, 64, 64, 2], 32), "W6": ([784, 128, 64, 10], 64)}
TINY = {"mlp": [12, 8, 6, 3], "w1": 4, "w4": 5, "w2a": [6, 4], "w2b": [3, 4, 5], "w3": 8,
        "W5": ([6, 5, 4, 2], 4), "W6": ([10, 7, 5, 3], 5)}
# (x seed, label seed) per training workload, as bench/src/impl/nabla.ts
TRAIN_SEEDS = {"W1": (1, 2), "W5": (8, 9), "W6": (10, 11)}
# warm-up and timed iterations per workload where the spec sets them (else 5 and 30)
SPEC_LOOP = {"W5": (20, 200), "W6": (20, 200)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--impl", default="torch", help="id to report: torch (Debian 1.13) or torch2 (venv)")
    ap.add_argument("--cases", default="")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--iters", type=int, default=None)
    ap.add_argument("--tiny", action="store_true")
    ap.add_argument("--warmup-cap-s", type=float, default=0.0)
    ap.add_argument("--timed-cap-s", type=float, default=0.0)
    ap.add_argument("--probe", type=int, default=0,
                    help="run N steps untimed and report what the last one read back (for tests)")
    args = ap.parse_args()
    try:
        import torch
        from torch import nn
    except Exception as e:  # noqa: BLE001 - any import failure means the peer is unavailable
        emit({"impl": args.impl, "skipped": "import torch failed: %s" % e, "cases": {}})
        return
    if np is None:
        emit({"impl": args.impl, "skipped": "numpy is not importable", "cases": {}})
        return
    t = torch.from_numpy

    torch.manual_seed(0)
    sz = TINY if args.tiny else FULL
    cases = [c for c in args.cases.split(",") if c]
    blas = blas_libraries(torch)
    info = {
        "threads": torch.get_num_threads(),
        "interop_threads": torch.get_num_interop_threads(),
        "blas": " ".join(blas) or "none found in /proc/self/maps",
        "blas_info": "OpenBLAS (pthread)" if any("openblas" in b for b in blas) else "reference BLAS or other",
        "mkldnn": bool(torch.backends.mkldnn.is_available()),
        "python": sys.version.split()[0],
        "executable": sys.executable,
    }

    def mlp(widths=None):
        widths = widths or sz["mlp"]
        i, h1, h2, o = widths
        model = nn.Sequential(
            nn.Linear(i, h1), nn.BatchNorm1d(h1, eps=1e-5, momentum=0.1), nn.ReLU(),
            nn.Linear(h1, h2), nn.BatchNorm1d(h2, eps=1e-5, momentum=0.1), nn.ReLU(),
            nn.Linear(h2, o),
        )
        with torch.no_grad():
            for k, idx in enumerate((0, 3, 6)):
                w, b = linear_init(widths[k], widths[k + 1], 100 + k)
                model[idx].weight.copy_(t(w))
                model[idx].bias.copy_(t(b))
        return model

    last = {}

    def prep(case):
        if case in ("W1", "W5", "W6"):
            widths, batch = (sz["mlp"], sz["w1"]) if case == "W1" else sz[case]
            x_seed, y_seed = TRAIN_SEEDS[case]
            model = mlp(widths).train()
            x = t(randn(batch * widths[0], x_seed)).reshape(batch, widths[0])
            y = t(randint(batch, widths[3], y_seed))
            loss_fn = nn.CrossEntropyLoss()
            if case == "W1":
                opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            else:
                opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8,
                                       weight_decay=0, amsgrad=False)

            def step():
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                last[case] = [loss.item()]
            return step
        if case == "W4":
            model = mlp().eval()
            x = t(randn(sz["w4"] * sz["mlp"][0], 3)).reshape(sz["w4"], sz["mlp"][0])

            def step():
                with torch.inference_mode():
                    last[case] = model(x).numpy()
            return step
        if case in ("W2a_2d", "W2b_3d"):
            shape = sz["w2a"] if case == "W2a_2d" else sz["w2b"]
            bn = nn.BatchNorm1d(shape[1], eps=1e-5, momentum=0.1).train()
            size = int(np.prod(shape))
            x = t(randn(size, 4)).reshape(*shape).requires_grad_(True)
            dy = t(randn(size, 5)).reshape(*shape)

            def step():
                x.grad = None
                bn.zero_grad(set_to_none=True)
                bn(x).backward(dy)
                last[case] = bn.weight.grad.numpy().copy()
            return step
        if case in ("W3_AB", "W3_AtB", "W3_ABt"):
            n = sz["w3"]
            a = t(randn(n * n, 6)).reshape(n, n)
            b = t(randn(n * n, 7)).reshape(n, n)
            lhs = a.t() if case == "W3_AtB" else a
            rhs = b.t() if case == "W3_ABt" else b

            def step():
                last[case] = torch.mm(lhs, rhs)
            return step
        return None

    out = {}
    for case in cases:
        if case == "W2b_3d_channels_last":
            out[case] = {"skipped": "channels-first library: N,C,L is native"}
            continue
        try:
            step = prep(case)
            if step is None:
                out[case] = {"error": "unknown case " + case}
                continue
            if args.probe:
                for _ in range(args.probe):
                    step()
                out[case] = {"probe": np.asarray(last[case], dtype=np.float64).ravel().tolist()}
                continue
            warmup, iters = SPEC_LOOP.get(case, (5, 30))
            if args.warmup is not None:
                warmup = args.warmup
            if args.iters is not None:
                iters = args.iters
            out[case] = time_loop(step, warmup, iters, args.warmup_cap_s, args.timed_cap_s)
        except Exception as e:  # noqa: BLE001 - report, never crash the suite
            out[case] = {"error": "%s: %s" % (type(e).__name__, e)}
    emit({
        "impl": args.impl,
        "library": "torch " + torch.__version__,
        "info": info,
        "notes": {
            "W4": "torch.inference_mode(); logits read back with .numpy() (zero-copy on CPU)",
            "W3_AB": "C is host memory already (the spec's 'nothing extra')",
        },
        "cases": out,
    })


if __name__ == "__main__":
    main()
