#!/usr/bin/env python3
"""Fingerprints of the Linear weight matrices of a Hugging Face BertModel safetensors file, for OnnxEncoderImportTests.

usage: python3 fingerprints.py MODEL.safetensors OUT.json

For every Linear weight (attention.self.query/key/value, attention.output.dense, intermediate.dense,
output.dense, pooler.dense) in Hugging Face [out, in] layout: the float64 sum and sum of absolute values
of all elements, and the elements [0, 0] and [last, last]. Only numpy is needed: safetensors is parsed
by hand (8-byte little-endian header length, JSON header, raw little-endian data).
"""
import json, struct, sys
import numpy as np

LINEARS = ('attention.self.query.weight', 'attention.self.key.weight', 'attention.self.value.weight',
           'attention.output.dense.weight', 'intermediate.dense.weight', 'output.dense.weight', 'pooler.dense.weight')

def read_safetensors(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    tensors = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        assert info['dtype'] == 'F32', (name, info['dtype'])
        begin, end = info['data_offsets']
        tensors[name] = np.frombuffer(data[8 + n + begin:8 + n + end], dtype='<f4').reshape(info['shape'])
    return tensors

def main():
    tensors = read_safetensors(sys.argv[1])
    out = {}
    for name in sorted(tensors):
        a = tensors[name]
        if a.ndim != 2 or not name.endswith(LINEARS):
            continue
        out[name] = dict(shape=list(a.shape), sum=float(a.astype(np.float64).sum()),
                         abs_sum=float(np.abs(a.astype(np.float64)).sum()),
                         first=float(a[0, 0]), last=float(a[-1, -1]))
    with open(sys.argv[2], 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'{len(out)} weight matrices -> {sys.argv[2]}')

if __name__ == '__main__':
    main()
