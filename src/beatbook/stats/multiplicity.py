"""The one correction policy for every family of tests: Holm, stated in words.

Testing 13 crime types at p < 0.05 each finds about one "change" by chance even when
nothing changed. Every family of tests BeatBook publishes together (changes by crime
type, share changes, area-vs-area comparisons) is corrected by Holm's step-down method
on the family's p-values, and each result says so (``correction``: "Holm over 13 crime
types").
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["holm", "holm_correction"]


def holm(p_values: Sequence[float], alpha: float = 0.05) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error rate control).

    Parameters
    ----------
    p_values : sequence of float
        Unadjusted p-values, one per category.
    alpha : float, default 0.05
        Family-wise significance level (the adjustment does not depend on it).

    Returns
    -------
    list of float
        Adjusted p-values, in the input order, from
        ``statsmodels.stats.multitest.multipletests(method="holm")``.

    Notes
    -----
    Holm, S. (1979). "A simple sequentially rejective multiple test
    procedure". *Scandinavian Journal of Statistics* 6(2), 65-70. Holm is
    valid under any dependence between the tests and is uniformly more
    powerful than Bonferroni.
    """
    if len(p_values) == 0:
        return []
    # statsmodels (with pandas) takes about 1 s to import: imported where it is used
    from statsmodels.stats.multitest import multipletests

    adjusted = multipletests(list(p_values), alpha=alpha, method="holm")[1]
    return [float(p) for p in adjusted]


def holm_correction(n_tests: int, family: str = "categories") -> str:
    """The correction policy in words, for the ``correction`` column and the methods box.

    >>> holm_correction(13, "crime types"), holm_correction(1)
    ('Holm over 13 crime types', 'none (one test)')
    """
    return "none (one test)" if n_tests <= 1 else f"Holm over {n_tests:,} {family}"
