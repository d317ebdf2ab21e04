"""Crime rates and shares with exact confidence intervals.

A rate is ``count / population * per`` (BeatBook publishes per 1,000
residents); its interval is the exact Poisson interval for the count, scaled
the same way. A share is ``part / base`` with the exact binomial
(Clopper-Pearson) interval. Both are "exact" in the sense of guaranteed
coverage of at least the nominal level, which matters for the small counts
of a neighbourhood.

The population is taken as known without error; the caller states which
population year it used (see DESIGN.md, "Statistics that must be right").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scipy import special

from beatbook.errors import InputError
from beatbook.stats._common import (
    check_count,
    check_per,
    check_positive,
    check_probability,
    dataclass_to_dict,
)

__all__ = ["Rate", "Share", "poisson_ci", "rate", "share"]


def poisson_ci(count: int, conf: float = 0.95) -> tuple[float, float]:
    """Exact (Garwood) confidence interval for the mean of a Poisson count.

    Parameters
    ----------
    count : int
        Observed count, ``k >= 0``.
    conf : float, default 0.95
        Confidence level, strictly between 0 and 1.

    Returns
    -------
    tuple of float
        ``(low, high)`` with, for ``a = 1 - conf``,
        ``low = chi2.ppf(a/2, 2k) / 2`` (``0`` when ``k == 0``) and
        ``high = chi2.ppf(1 - a/2, 2k + 2) / 2``.

    Raises
    ------
    InputError
        If ``count`` is negative or not whole, or ``conf`` is not in (0, 1).

    Notes
    -----
    Garwood, F. (1936). "Fiducial limits for the Poisson distribution".
    *Biometrika* 28(3/4), 437-442. The chi-square form is the one tabulated
    in Ulm, K. (1990). "A simple method to calculate the confidence interval
    of a standardized mortality ratio". *American Journal of Epidemiology*
    131(2), 373-375.

    Examples
    --------
    >>> low, high = poisson_ci(10)
    >>> round(low, 3), round(high, 3)
    (4.795, 18.39)
    >>> poisson_ci(0)[0]
    0.0
    """
    k = check_count(count, "count")
    alpha = 1.0 - check_probability(conf, "conf")
    # chi2.ppf(q, 2k) / 2 is gammaincinv(k, q), the very function scipy.stats.chi2 calls
    # (the same floats), without importing scipy.stats (about 1 s) for a rate.
    low = 0.0 if k == 0 else float(special.gammaincinv(k, alpha / 2))
    high = float(special.gammaincinv(k + 1, 1 - alpha / 2))
    return low, high


@dataclass(frozen=True)
class Rate:
    """A rate per ``per`` people with its exact confidence interval.

    Attributes
    ----------
    count : int
        Number of crimes (the numerator).
    population : float
        Number of residents (the denominator), for the population year the
        caller states.
    per : int
        Multiplier, e.g. ``1000`` for "per 1,000 residents".
    rate : float
        ``count / population * per``.
    ci_low, ci_high : float
        Exact Poisson (Garwood) interval for the rate.
    conf : float
        Confidence level of the interval.
    """

    count: int
    population: float
    per: int
    rate: float
    ci_low: float
    ci_high: float
    conf: float

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as plain, JSON-safe Python values (full precision)."""
        return dataclass_to_dict(self)


def rate(count: int, population: float, per: int = 1000, conf: float = 0.95) -> Rate:
    """Crime rate per ``per`` residents with an exact Poisson interval.

    Parameters
    ----------
    count : int
        Number of crimes, ``>= 0``.
    population : float
        Number of residents, ``> 0``.
    per : int, default 1000
        Multiplier for the rate.
    conf : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    Rate
        ``rate = count / population * per`` and the Garwood interval of
        :func:`poisson_ci` multiplied by ``per / population``.

    Raises
    ------
    InputError
        If the count is negative, the population is not positive, ``per`` is
        not a positive whole number or ``conf`` is not in (0, 1).

    Notes
    -----
    The count is treated as Poisson and the population as fixed, so the
    interval is the Garwood (1936) interval for the count scaled by
    ``per / population`` (Ulm 1990; see :func:`poisson_ci`).

    Examples
    --------
    >>> r = rate(10, 5000)
    >>> r.rate
    2.0
    >>> round(r.ci_low, 3), round(r.ci_high, 3)
    (0.959, 3.678)
    """
    k = check_count(count, "count")
    pop = check_positive(population, "population")
    multiplier = check_per(per)
    level = check_probability(conf, "conf")
    low, high = poisson_ci(k, level)
    scale = multiplier / pop
    return Rate(
        count=k,
        population=pop,
        per=multiplier,
        rate=k * scale,
        ci_low=low * scale,
        ci_high=high * scale,
        conf=level,
    )


@dataclass(frozen=True)
class Share:
    """A share ``part / base`` (between 0 and 1) with its exact interval.

    Attributes
    ----------
    part : int
        Crimes in the category of interest.
    base : int
        All crimes the share is taken of (always published with the share).
    share : float
        ``part / base``, between 0 and 1.
    ci_low, ci_high : float
        Exact (Clopper-Pearson) interval for the share.
    conf : float
        Confidence level of the interval.
    """

    part: int
    base: int
    share: float
    ci_low: float
    ci_high: float
    conf: float

    def to_dict(self) -> dict[str, Any]:
        """Return the fields as plain, JSON-safe Python values (full precision)."""
        return dataclass_to_dict(self)


def share(part: int, base: int, conf: float = 0.95) -> Share:
    """Share of ``base`` that is ``part``, with the Clopper-Pearson interval.

    Parameters
    ----------
    part : int
        Count in the category, ``0 <= part <= base``.
    base : int
        Total count, ``> 0``.
    conf : float, default 0.95
        Confidence level of the interval.

    Returns
    -------
    Share
        ``share = part / base`` and the exact interval from
        ``scipy.stats.binomtest(part, base).proportion_ci(method="exact")``.

    Raises
    ------
    InputError
        If ``base`` is 0, either count is negative, ``part > base`` or
        ``conf`` is not in (0, 1).

    Notes
    -----
    Clopper, C. J. and Pearson, E. S. (1934). "The use of confidence or
    fiducial limits illustrated in the case of the binomial". *Biometrika*
    26(4), 404-413.

    Examples
    --------
    >>> s = share(1577, 41500)
    >>> round(s.share, 4)
    0.038
    """
    k = check_count(part, "part")
    n = check_count(base, "base")
    level = check_probability(conf, "conf")
    if n == 0:
        raise InputError("base must be greater than 0: a share of nothing is undefined")
    if k > n:
        raise InputError(f"part ({k}) cannot be larger than base ({n})")
    from scipy import stats  # imported here: it takes about 1 s, and a rate needs none of it

    interval = stats.binomtest(k, n).proportion_ci(confidence_level=level, method="exact")
    return Share(
        part=k,
        base=n,
        share=k / n,
        ci_low=float(interval.low),
        ci_high=float(interval.high),
        conf=level,
    )
