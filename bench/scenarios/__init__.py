"""The benchmark scenarios P1–P8 of planet-profiles issue 6 and P9 of issue 13, each a small `Scenario`.

A scenario prepares its files once (`setup`), then `measure(ws, lib)` is called once per round for each
library (the driver alternates which goes first) and returns samples per figure. `rows` turns all samples
into table rows with the target verdicts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from _harness import Lib, Summary, Workspace, cell, fmt

Samples = dict[str, list[float]]  # figure -> values
AllSamples = dict[str, Samples]  # lib key -> figure -> values


@dataclass(frozen=True)
class Row:
    scenario: str
    figure: str
    unit: str
    ours: str
    pa: str
    ratio: str
    target: str
    verdict: str  # "met", "MISSED" or "" (no target)


class Scenario:
    id = ""
    title = ""
    warmup = True  # run one untimed round first
    max_rounds: int | None = None  # cap on the timed rounds (slow scenarios)
    rounds_factor = 1  # timed rounds = --rounds × this (short ones: the two libraries alternate more often)
    libs: tuple[str, ...] = ("ours", "pa")

    def setup(self, ws: Workspace) -> None:
        """Prepare files / servers once, before the rounds."""

    def measure(self, ws: Workspace, lib: Lib) -> Samples:
        raise NotImplementedError

    def rows(self, samples: AllSamples) -> list[Row]:
        raise NotImplementedError


def verdict(ok: bool | None) -> str:
    return "" if ok is None else ("met" if ok else "MISSED")


def compare(
    scenario: str,
    figure: str,
    unit: str,
    samples: AllSamples,
    key: str,
    *,
    digits: int = 1,
    max_ratio: float | None = None,
    check: Callable[[Summary | None, Summary | None], tuple[str, bool | None]] | None = None,
) -> Row:
    """A row comparing the two libraries' samples of figure `key`; `max_ratio` is the target ours/theirs."""
    ours = Summary.of(samples.get("ours", {}).get(key, []))
    pa = Summary.of(samples.get("pa", {}).get(key, []))
    ratio = f"{ours.median / pa.median:.2f}" if ours and pa and pa.median else "n/a"
    target, ok = "", None
    if max_ratio is not None:
        target = f"ratio ≤ {max_ratio:g}"
        ok = ours is not None and pa is not None and pa.median > 0 and ours.median / pa.median <= max_ratio
    if check is not None:
        target, ok = check(ours, pa)
    return Row(scenario, figure, unit, cell(ours, digits), cell(pa, digits), ratio, target, verdict(ok))


def at_most(limit: float, unit: str) -> Callable[[Summary | None, Summary | None], tuple[str, bool | None]]:
    """Target: our median ≤ `limit`."""

    def check(ours: Summary | None, pa: Summary | None) -> tuple[str, bool | None]:
        return f"≤ {fmt(limit, 2)} {unit}", ours is not None and ours.median <= limit

    return check


def exactly(
    value: float, *, worst: bool = True
) -> Callable[[Summary | None, Summary | None], tuple[str, bool | None]]:
    """Target: every one of our samples equals `value` (`worst`), else the median does."""

    def check(ours: Summary | None, pa: Summary | None) -> tuple[str, bool | None]:
        if ours is None:
            return f"= {fmt(value)}", False
        ok = ours.low == value == ours.high if worst else ours.median == value
        return f"= {fmt(value)} every round", ok

    return check


def all_scenarios() -> Sequence[Scenario]:
    from scenarios.cli_token import CliToken
    from scenarios.concurrency import Concurrency
    from scenarios.fleet_cache import FleetCache
    from scenarios.multiprocess import RotatingRefresh
    from scenarios.per_request import PerRequest
    from scenarios.sops_load import SopsLoad
    from scenarios.startup import ColdStart, InProcessLoad
    from scenarios.validate import Validate

    return [
        ColdStart(),
        InProcessLoad(),
        SopsLoad(),
        PerRequest(),
        Concurrency(),
        RotatingRefresh(),
        Validate(),
        CliToken(),
        FleetCache(),
    ]
