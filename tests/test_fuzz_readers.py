"""Hypothesis fuzzing of every reader, bounded and seeded for CI (tests/fuzzing.py has
the strategies and the properties; benchmarks/fuzz.py runs >= 100,000 examples each)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzzing import READERS, check, mutated

# Examples per reader in CI: seeded (derandomize) so a run is reproducible.
CI_EXAMPLES = 200


@pytest.mark.slow
@pytest.mark.parametrize("reader", READERS)
def test_reader_never_crashes_and_counts_add_up(reader, ssa_data, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"fuzz-{reader}")

    @settings(
        derandomize=True,
        max_examples=CI_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=mutated(reader))
    def run(data):
        check(reader, data, folder)

    run()
