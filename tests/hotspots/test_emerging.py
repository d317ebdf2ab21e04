"""Emerging-hotspot classes on hand-built histories (oldest month first)."""

from __future__ import annotations

import numpy as np
import pytest

from beatbook.hotspots.emerging import classify, z_trend

H, C, N = "H", "C", "."  # hot, cold, neither


def history(pattern: str, z: list[float] | None = None) -> tuple[str | None, str, float]:
    hot = np.array([c == H for c in pattern])
    cold = np.array([c == C for c in pattern])
    zs = np.array(z if z is not None else [3.0 if c == H else 0.0 for c in pattern])
    return classify(hot, cold, zs)


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ("...........H", "new"),
        ("..........HH", "consecutive"),
        ("........HHHH", "consecutive"),
        ("H.........HH", "sporadic"),  # hot before the run: not consecutive
        ("..H..H.H...H", "sporadic"),
        ("..H..C.H...H", "oscillating"),
        ("HHHHHHHHHHH.", "historical"),
        ("HHHHHHHHHHHH", "persistent"),  # flat z: no trend
        ("HHHH.HHHHHH.", None),  # 9 of 12 is under 90% and not hot last
        ("............", None),
        ("CCCCCCCCCCCC", None),
    ],
)
def test_classes(pattern: str, expected: str | None) -> None:
    assert history(pattern)[0] == expected


def test_intensifying_and_diminishing_need_a_significant_trend() -> None:
    rising = list(np.linspace(2.5, 9.0, 12))
    assert history("HHHHHHHHHHHH", rising)[:2] == ("intensifying", "up")
    assert history("HHHHHHHHHHHH", rising[::-1])[:2] == ("diminishing", "down")
    # 11 of 12 months hot (>= 90%), the last included: still the persistent family.
    assert history("HHHHH.HHHHHH", rising)[0] == "intensifying"
    noisy = [3.1, 2.9, 3.3, 2.8, 3.2, 3.0, 2.7, 3.4, 2.9, 3.1, 3.0, 3.05]
    assert history("HHHHHHHHHHHH", noisy)[0] == "persistent"


def test_trend_p_matches_the_mann_kendall_formula() -> None:
    """S, its variance without ties, and the two-sided normal p, written out by hand."""
    from scipy.stats import norm

    z = np.array([1.0, 3.0, 2.0, 5.0, 4.0, 6.0, 8.0, 7.0])
    n = len(z)
    s = sum(np.sign(z[j] - z[i]) for i in range(n) for j in range(i + 1, n))
    var = n * (n - 1) * (2 * n + 5) / 18
    zs = (s - np.sign(s)) / np.sqrt(var)
    trend, p = z_trend(z)
    assert trend == "up" and p == pytest.approx(2 * norm.sf(abs(zs)))
