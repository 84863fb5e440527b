"""craft.py RECORD...: write a disq stream, one msgpack map per argument.

Each RECORD is a Python expression (numpy as np in scope) giving a dict; numpy
arrays in it become tensors.  The first is the header.  For tests that need a
stream no tool writes: out-of-range codes, NaN latents, odd shapes."""
import sys

import msgpack
import numpy as np

DTYPES = {np.dtype('uint8'): 'u8', np.dtype('int32'): 'i32', np.dtype('float32'): 'f32'}


def encode(v):
    if isinstance(v, np.ndarray):
        return {'dtype': DTYPES[v.dtype], 'shape': list(v.shape), 'data': v.tobytes()}
    return v


out = sys.stdout.buffer
for arg in sys.argv[1:]:
    rec = eval(arg, {'np': np})
    out.write(msgpack.packb({k: encode(v) for k, v in rec.items()}))
