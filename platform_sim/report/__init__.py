"""Homogenization reports: ``platform-sim report DIR`` for a run or a sweep directory.

``write_report(dir)`` writes ``dir/report.html`` (self-contained: figures inlined as PNG
data URIs, no external CSS or JS), the figures as PNG (150 dpi) and SVG in
``dir/figures/``, and ``dir/summary.json``: every number the summary paragraph quotes, with
the metric, world and steps it was read from.
"""

from __future__ import annotations

from pathlib import Path

from platform_sim.report.summary import crossing_steps, summary_numbers

__all__ = ["ReportError", "crossing_steps", "summary_numbers", "write_report"]


class ReportError(ValueError):
    """The directory is neither a run nor a sweep directory; the message says why."""


def write_report(directory: Path, *, maps: bool = True) -> Path:
    """Write the report of a run or sweep directory; returns the ``report.html`` path.

    A sweep is recognised by ``results.parquet``, a run by ``metrics.parquet``.
    ``maps=False`` skips the maps and the feature graph (the slow part). Deterministic:
    the same directory gives the same ``summary.json`` and figures.
    """
    from platform_sim.report.build import run_report, sweep_report

    directory = Path(directory)
    if (directory / "results.parquet").is_file():
        return sweep_report(directory, maps)
    if (directory / "metrics.parquet").is_file():
        return run_report(directory, maps)
    raise ReportError(
        f"{directory} is not a run directory (no metrics.parquet) nor a sweep directory "
        "(no results.parquet)"
    )
