"""Hypothesis profiles for the property-based tests of every webhook parser and signature check.

`make test` runs the `ci` profile (a few hundred examples a parser); `make fuzz` sets
HYPOTHESIS_PROFILE=fuzz (20,000 examples a parser). Both are derandomised per test in CI so a
failure reproduces; `fuzz` explores freely and keeps what it finds in .hypothesis/.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                                      HealthCheck.function_scoped_fixture])
settings.register_profile("ci", max_examples=300, derandomize=True, database=None, **_COMMON)
settings.register_profile("fuzz", max_examples=20_000, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
