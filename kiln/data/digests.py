"""Content digests: a short, stable fingerprint of a dataset's values.

The same values give the same digest in any process on any machine (no
``hash()``, whose seed changes per process), so a run that logs the same
data twice records one dataset.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

__all__ = ["DIGEST_LENGTH", "digest_array", "digest_frame"]

DIGEST_LENGTH = 16


def digest_frame(df: pd.DataFrame) -> str:
    """Digest of a DataFrame's column names, dtypes and every value (not the index)."""
    import pandas as pd

    hasher = hashlib.sha256(b"frame\x00")
    for name, dtype in df.dtypes.items():
        hasher.update(f"{name!r}:{dtype}\x00".encode())
    try:
        hashed = pd.util.hash_pandas_object(df, index=False)
    except TypeError:
        # Cells holding lists or dicts cannot be hashed by pandas; their
        # text form is stable enough to fingerprint them.
        hashed = pd.util.hash_pandas_object(df.astype(str), index=False)
    hasher.update(hashed.to_numpy().tobytes())
    return hasher.hexdigest()[:DIGEST_LENGTH]


def digest_array(*arrays: np.ndarray | None) -> str:
    """Digest of arrays' dtypes, shapes and values, in order (None counts too)."""
    import numpy as np

    hasher = hashlib.sha256(b"arrays\x00")
    for array in arrays:
        if array is None:
            hasher.update(b"none\x00")
            continue
        hasher.update(f"{array.dtype.str}{array.shape}\x00".encode())
        if array.dtype.hasobject:
            # Object arrays hold pointers; fingerprint each value's text.
            for value in array.ravel():
                hasher.update(repr(value).encode() + b"\x00")
        else:
            hasher.update(np.ascontiguousarray(array).tobytes())
    return hasher.hexdigest()[:DIGEST_LENGTH]
