"""CLI start-up: `beatbook --help` against a bare interpreter, in one interleaved run.

Prints the median wall time of each over N fresh processes and their difference and
ratio (the machine's noise hits both alike). Commands import their analysis libraries
only when they run, so `--help` should cost well under a second beyond Python itself.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "beatbook --help": [sys.executable, "-m", "beatbook.cli.main", "--help"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, command in cases.items():
            start = time.perf_counter()
            subprocess.run(command, capture_output=True, check=True)
            times[name].append(time.perf_counter() - start)
    medians = {name: statistics.median(v) for name, v in times.items()}
    for name, median in medians.items():
        print(f"{name:>18}: median {median:.3f} s over {args.runs} runs")
    base, cli = medians["python -c pass"], medians["beatbook --help"]
    print(
        f"{'beatbook --help':>18}: {cli - base:.3f} s beyond the interpreter, ratio {cli / base:.1f}"
    )


if __name__ == "__main__":
    main()
