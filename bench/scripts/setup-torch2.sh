#!/usr/bin/env bash
# Makes bench/.venv-torch2: a virtual environment with PyTorch 2.x's CPU wheel, the bench's
# second PyTorch peer (`torch2`). Uses this machine's configured package index (pip.conf /
# PIP_INDEX_URL); TORCH2_SPEC overrides the requirement (default torch==2.13.0+cpu).
# Afterwards `npm run bench` finds it; NABLA_BENCH_TORCH2_PYTHON points the bench elsewhere.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$here/.venv-torch2"
spec="${TORCH2_SPEC:-torch==2.13.0+cpu}"
python="${PYTHON:-python3}"
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --upgrade pip >/dev/null
"$venv/bin/python" -m pip install "$spec" numpy
"$venv/bin/python" -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)'
echo "ready: $venv/bin/python (the bench's torch2 peer)"
