#!/usr/bin/env python3
"""Validates ONNX files written by Nabla's exportOnnx with the reference `onnx` checker
(Debian's python3-onnx), including full shape inference, and prints each graph's nodes.

  /usr/bin/python3 tools/interop/check_onnx.py model.onnx [more.onnx ...]
"""
import sys

import onnx

failed = 0
for path in sys.argv[1:]:
    model = onnx.load(path)
    try:
        onnx.checker.check_model(model, full_check=True)
        inferred = onnx.shape_inference.infer_shapes(model, check_type=True, strict_mode=True)
    except Exception as e:  # noqa: BLE001 - report every file, then fail
        failed += 1
        print(f'{path}: INVALID: {e}')
        continue
    ops = ' -> '.join(n.op_type for n in model.graph.node)
    out = inferred.graph.output[0].type.tensor_type.shape
    dims = [d.dim_param or d.dim_value for d in out.dim]
    print(f'{path}: ok (ir {model.ir_version}, opset {model.opset_import[0].version}): {ops}; output {dims}')
sys.exit(1 if failed else 0)
