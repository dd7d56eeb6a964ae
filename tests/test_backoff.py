"""The one retry rule: capped exponential backoff with jitter."""

import pytest

from subgraphs._common.backoff import retry_delay

pytestmark = pytest.mark.db_agnostic


@pytest.mark.parametrize(("attempts", "full"), [(1, 0.5), (2, 1.0), (3, 2.0), (7, 30.0), (1000, 30.0)])
def test_the_delay_doubles_up_to_its_cap_and_waits_at_least_half_of_it(attempts: int, full: float) -> None:
    delays = [retry_delay(attempts, first=0.5, cap=30.0) for _ in range(200)]
    assert all(full / 2 <= delay <= full for delay in delays)
    assert len(set(delays)) > 1  # jittered: senders that failed together spread out
