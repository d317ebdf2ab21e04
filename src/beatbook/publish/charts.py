"""Charts as PNG files (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)


def backtest_chart(result: dict[str, Any], path: str | Path) -> Path:
    """PAI by area coverage for each method, with the ceiling a perfect forecast reaches."""
    summary = result["summary"]
    methods = list(dict.fromkeys(r["method"] for r in summary))
    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for method in methods:
        rows = sorted((r for r in summary if r["method"] == method), key=lambda r: r["coverage"])
        x = [100 * r["coverage"] for r in rows]
        ax.plot(x, [r["pai"] for r in rows], marker="o", label=method)
        ax.fill_between(x, [r["pai_low"] for r in rows], [r["pai_high"] for r in rows], alpha=0.15)
    ceiling = sorted((r for r in summary if r["method"] == methods[0]), key=lambda r: r["coverage"])
    ax.plot([100 * r["coverage"] for r in ceiling], [r["pai_ceiling"] for r in ceiling],
            color="black", linestyle="--", label="ceiling (perfect forecast)")  # fmt: skip
    ax.set_xscale("log")
    ax.set_xticks([1, 2, 5, 10, 20], labels=["1%", "2%", "5%", "10%", "20%"])
    ax.set_xlabel("share of the area searched (cells ranked by each method)")
    ax.set_ylabel("PAI = hit rate / area share")
    what = result["problem"] or "all crime and ASB"
    months = result["targets"]
    ax.set_title(f"{result['area']['name']}, {what}: {len(months)} months forecast "
                 f"({months[0]} to {months[-1]})")  # fmt: skip
    ax.legend(fontsize="small")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, format="png")
    plt.close(fig)
    return path
