"""PII masking for pandas frames, through the shared Arrow kernels (engines/arrow_mask.py)."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import pyarrow as pa

from meshc.engines.arrow_mask import mask_array, mask_reasons
from meshc.engines.base import REASONS


def mask_frame(frame: pd.DataFrame, masks: Mapping[str, str]) -> pd.DataFrame:
    out = frame.copy()
    for name, method in masks.items():
        if name not in out.columns:
            continue
        if method == "nullify":  # keeps the column's dtype
            out[name] = pd.Series(pd.NA, index=out.index, dtype=out[name].dtype)
            continue
        masked = mask_array(pa.array(out[name], from_pandas=True), method)
        out[name] = pd.Series(masked.to_pylist(), index=out.index, dtype="string[pyarrow]")
    if REASONS in out.columns and len(out):
        arrow = pa.array(out[REASONS], from_pandas=True)
        out[REASONS] = pd.Series(
            pd.arrays.ArrowExtensionArray(mask_reasons(arrow, masks)), index=out.index
        )
    return out
