"""Emerging hotspots: how each cell's Gi* hot-spot status has moved over the last N months.

A cell's history is its monthly Gi* results (hot / cold after FDR control, and
the z-score). The classes follow Esri's Emerging Hot Spot Analysis, on months:

- **new**: hot in the last month and in no month before it;
- **consecutive**: hot in an unbroken run of at least two months ending in the last
  month, never hot before the run, and hot in under 90% of the months;
- **intensifying**: hot in at least 90% of the months, the last included, and its
  z-scores rise (Mann-Kendall test, p < 0.05);
- **persistent**: hot in at least 90% of the months, the last included, no trend;
- **diminishing**: as persistent, but the z-scores fall;
- **sporadic**: hot in the last month, on and off before, under 90% of the months,
  never cold;
- **oscillating**: as sporadic, but cold in some month (Esri's eighth class);
- **historical**: not hot in the last month, but hot in at least 90% of the months.

Any other cell has no pattern. Every cell and month is tested on the same grid.
"""

from __future__ import annotations

import numpy as np
import pymannkendall
from numpy.typing import NDArray

PERSISTENT_SHARE = 0.9
TREND_ALPHA = 0.05
CLASSES = (
    "new",
    "consecutive",
    "intensifying",
    "persistent",
    "diminishing",
    "sporadic",
    "oscillating",
    "historical",
)


def z_trend(z: NDArray[np.float64]) -> tuple[str, float]:
    """Mann-Kendall trend of one cell's monthly z-scores: 'up', 'down' or 'none', and p."""
    if len(z) < 3 or np.all(z == z[0]):
        return "none", 1.0
    result = pymannkendall.original_test(np.asarray(z, dtype=float), alpha=TREND_ALPHA)
    trend = {"increasing": "up", "decreasing": "down"}.get(result.trend, "none")
    return trend, float(result.p)


def classify(
    hot: NDArray[np.bool_], cold: NDArray[np.bool_], z: NDArray[np.float64]
) -> tuple[str | None, str, float]:
    """Class of one cell from its monthly hot / cold flags and z-scores (oldest first).

    Returns (class or None, z trend, trend p).
    """
    hot, cold = np.asarray(hot, dtype=bool), np.asarray(cold, dtype=bool)
    n, last = len(hot), bool(hot[-1])
    share = hot.sum() / n
    trend, p = z_trend(z)
    if share >= PERSISTENT_SHARE:
        if not last:
            return "historical", trend, p
        return {"up": "intensifying", "down": "diminishing"}.get(trend, "persistent"), trend, p
    if not last:
        return None, trend, p
    if hot.sum() == 1:
        return "new", trend, p
    run = int(np.argmin(hot[::-1])) if not hot.all() else n  # months hot at the end
    if run >= 2 and hot[: n - run].sum() == 0:
        return "consecutive", trend, p
    return ("oscillating" if cold.any() else "sporadic"), trend, p
