"""Hypothesis settings of the fuzz tests (`tests/test_fuzz.py`), selected by `HYPOTHESIS_PROFILE`.

- `fuzz-ci` (default, also for `HYPOTHESIS_PROFILE=ci`): 60 examples per property, no deadline,
  derandomized (the same examples every run, so CI is reproducible); the whole fuzz module stays well
  under 30 s. (Not named `ci`: hypothesis registers and auto-loads its own `ci` profile on CI machines.)
- `soak`: thousands of examples per property, for `bench/soak.py` and nightly runs
  (`HYPOTHESIS_PROFILE=soak pytest tests/test_fuzz.py`).

The profiles are registered here, not loaded: the fuzz tests apply `fuzz_settings()` as a decorator, so the
other hypothesis tests of the suite keep their own settings whichever profile is selected.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

__all__ = ["PROFILE_ENV", "fuzz_settings", "selected_profile"]

PROFILE_ENV = "HYPOTHESIS_PROFILE"

_SUPPRESS = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]

settings.register_profile(
    "fuzz-ci", max_examples=60, deadline=None, derandomize=True, suppress_health_check=_SUPPRESS
)
settings.register_profile(
    "soak",
    max_examples=2000,
    deadline=None,
    suppress_health_check=_SUPPRESS,
    stateful_step_count=100,
)


def selected_profile() -> str:
    """`soak` when `HYPOTHESIS_PROFILE=soak`, else `fuzz-ci`."""
    return "soak" if os.environ.get(PROFILE_ENV, "").strip() == "soak" else "fuzz-ci"


def fuzz_settings(*, scale: float = 1.0) -> settings:
    """The selected profile's settings, with `max_examples` scaled (e.g. 0.5 for properties that run sops)."""
    base = settings.get_profile(selected_profile())
    return settings(base, max_examples=max(1, int(base.max_examples * scale)))
