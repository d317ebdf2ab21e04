"""Arrow arrays built straight from memory, for the columns the importer adds.

``pyarrow.array`` imports pandas the first time it is called, to check whether it
was given a pandas object: 0.4 s, a fifth of a city's import, in a ``beatbook
ingest`` that otherwise never needs pandas. These build the same arrays from
their buffers.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa


def numbers(values: np.ndarray) -> pa.Array:
    """An Arrow array of a 1-D numeric or boolean numpy array (no nulls)."""
    values = np.ascontiguousarray(values)
    if values.dtype == np.bool_:
        bits = np.packbits(values, bitorder="little")
        return pa.Array.from_buffers(pa.bool_(), len(values), [None, pa.py_buffer(bits)])
    kind = pa.from_numpy_dtype(values.dtype)
    return pa.Array.from_buffers(kind, len(values), [None, pa.py_buffer(values)])


def strings(values: list[str]) -> pa.Array:
    """An Arrow string array of Python strings (no nulls)."""
    data = [value.encode() for value in values]
    offsets = np.zeros(len(data) + 1, dtype=np.int32)
    offsets[1:] = np.cumsum([len(d) for d in data], dtype=np.int64)
    buffers = [None, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    return pa.Array.from_buffers(pa.string(), len(data), buffers)
