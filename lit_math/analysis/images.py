"""Heatmaps as RGB arrays, in numpy alone, for TensorBoard's image tab (no plotting library in training)."""

from __future__ import annotations

import numpy as np

# A perceptually ordered dark-blue -> green -> yellow ramp (viridis' end points and middle).
_STOPS = np.array([[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]], dtype=np.float64)
_MISSING = np.array([128, 128, 128], dtype=np.uint8)


def heatmap(values: np.ndarray, cell: int = 4) -> np.ndarray:
    """(H * cell, W * cell, 3) uint8 image of a matrix of values in [0, 1]; NaN is grey."""
    values = np.asarray(values, dtype=np.float64)
    missing = np.isnan(values)
    position = np.clip(np.nan_to_num(values), 0.0, 1.0) * (len(_STOPS) - 1)
    low = np.minimum(position.astype(int), len(_STOPS) - 2)
    fraction = (position - low)[..., None]
    rgb = (_STOPS[low] * (1 - fraction) + _STOPS[low + 1] * fraction).round().astype(np.uint8)
    rgb[missing] = _MISSING
    return rgb.repeat(cell, axis=0).repeat(cell, axis=1)
