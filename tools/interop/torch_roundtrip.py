#!/usr/bin/env python3
"""PyTorch side of Nabla's interop round trip (needs Debian's python3-torch: /usr/bin/python3).

Default mode: trains a small MLP with BatchNorm1d for a few steps, then writes into
packages/interop/test/fixtures/
  torch_mlp.safetensors  its state_dict (safetensors written with numpy: the `safetensors`
                         package is not in Debian)
  torch_mlp.json         fixed inputs and the eval-mode outputs PyTorch computes for them

--check-nabla: reads nabla_mlp.safetensors (written by Nabla, see make_nabla_fixture.ts)
with a strict numpy reader, loads it into the same architecture, runs the inputs from
nabla_mlp.json in eval mode and writes PyTorch's outputs to nabla_mlp.torch.json, printing
the largest difference from the outputs Nabla recorded.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np
import torch
from torch import nn

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'packages', 'interop', 'test', 'fixtures')
DTYPES = {torch.float32: ('F32', np.float32), torch.int64: ('I64', np.int64), torch.int32: ('I32', np.int32)}
NP_BY_NAME = {'F32': np.float32, 'I64': np.int64, 'I32': np.int32}


def make_model():
    # Must match the architecture in packages/interop/test/mlp.ts.
    return nn.Sequential(
        nn.Linear(6, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(16, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 3),
    )


def write_safetensors(path, state_dict):
    header, chunks, offset = {'__metadata__': {'format': 'pt'}}, [], 0
    for name, t in state_dict.items():
        tag, np_dtype = DTYPES[t.dtype]
        raw = t.detach().cpu().numpy().astype(np.dtype(np_dtype).newbyteorder('<')).tobytes()
        header[name] = {'dtype': tag, 'shape': list(t.shape), 'data_offsets': [offset, offset + len(raw)]}
        chunks.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(',', ':')).encode()
    text += b' ' * (-len(text) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(text)) + text + b''.join(chunks))
    os.replace(tmp, path)


def read_safetensors(path):
    data = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', data[:8])
    assert 8 + n <= len(data), 'header length past end of file'
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', None)
    body, out, covered = data[8 + n:], {}, []
    for name, e in header.items():
        begin, end = e['data_offsets']
        np_dtype = np.dtype(NP_BY_NAME[e['dtype']]).newbyteorder('<')
        count = int(np.prod(e['shape'], dtype=np.int64))
        assert end - begin == count * np_dtype.itemsize and end <= len(body), f'bad offsets for {name}'
        covered.append((begin, end))
        out[name] = torch.from_numpy(np.frombuffer(body[begin:end], dtype=np_dtype).astype(np_dtype.newbyteorder('=')).reshape(e['shape']).copy())
    covered.sort()
    assert all(a[1] == b[0] for a, b in zip(covered, covered[1:])) and covered[0][0] == 0 and covered[-1][1] == len(body), 'data section not tiled exactly'
    return out, meta, header


def fx(t):
    return {'shape': list(t.shape), 'data': [float(v) for v in t.detach().reshape(-1).tolist()]}


def train_and_write():
    torch.manual_seed(7)
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    x_train = torch.randn(64, 6) * 2 + 0.5
    y_train = x_train[:, :3].argmax(1)  # learnable labels, so the logits grow away from 0
    model.train()
    for step in range(40):
        idx = torch.arange(16) + (step % 4) * 16
        loss = nn.functional.cross_entropy(model(x_train[idx]), y_train[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    x = torch.randn(5, 6) * 2 + 0.5
    with torch.no_grad():
        y = model(x)
    write_safetensors(os.path.join(FIXTURES, 'torch_mlp.safetensors'), model.state_dict())
    with open(os.path.join(FIXTURES, 'torch_mlp.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'input': fx(x), 'output': fx(y), 'train_loss': float(loss)}, f, indent=1)
    print(f'wrote torch_mlp.safetensors and torch_mlp.json (final training loss {float(loss):.4f})')


def check_nabla():
    tensors, meta, header = read_safetensors(os.path.join(FIXTURES, 'nabla_mlp.safetensors'))
    model = make_model()
    expected = model.state_dict()
    for name, t in expected.items():
        want = DTYPES[t.dtype][0]
        assert header[name]['dtype'] == want, f'{name}: {header[name]["dtype"]} on disk, PyTorch wants {want}'
    model.load_state_dict(tensors, strict=True)
    model.eval()
    rec = json.load(open(os.path.join(FIXTURES, 'nabla_mlp.json')))
    x = torch.tensor(rec['input']['data'], dtype=torch.float32).reshape(rec['input']['shape'])
    with torch.no_grad():
        y = model(x)
    nabla = torch.tensor(rec['output']['data'], dtype=torch.float32).reshape(rec['output']['shape'])
    diff = float((y - nabla).abs().max())
    with open(os.path.join(FIXTURES, 'nabla_mlp.torch.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'metadata': meta, 'output': fx(y), 'max_abs_diff_vs_nabla': diff}, f, indent=1)
    print(f'PyTorch read nabla_mlp.safetensors (metadata {meta}); largest |PyTorch - Nabla| = {diff:.3g}')
    if not diff < 1e-5:
        sys.exit('outputs differ by more than 1e-5')


def write_layernorm():
    """A model with the issue-17 layers (LayerNorm, GELU, SiLU): its state_dict and eval outputs."""
    torch.manual_seed(17)
    model = nn.Sequential(nn.Linear(5, 6), nn.LayerNorm(6), nn.GELU(), nn.Linear(6, 6), nn.SiLU(),
                          nn.LayerNorm(6, elementwise_affine=False), nn.Linear(6, 2))
    with torch.no_grad():
        model[1].weight.copy_(torch.rand(6) + 0.5)
        model[1].bias.copy_(torch.randn(6) * 0.3)
    model.eval()
    x = torch.randn(4, 5) * 2
    with torch.no_grad():
        y = model(x)
    write_safetensors(os.path.join(FIXTURES, 'torch_layernorm.safetensors'), model.state_dict())
    with open(os.path.join(FIXTURES, 'torch_layernorm.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'keys': list(model.state_dict().keys()), 'input': fx(x),
                   'output': fx(y)}, f, indent=1)
    print('wrote torch_layernorm.safetensors and torch_layernorm.json')


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--check-nabla', action='store_true', help='read the Nabla-written file and record PyTorch outputs')
    p.add_argument('--layernorm', action='store_true', help='write the LayerNorm/GELU/SiLU model fixture')
    args = p.parse_args()
    if args.layernorm:
        write_layernorm()
    else:
        check_nabla() if args.check_nabla else train_and_write()
