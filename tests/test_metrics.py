"""A subgraph's metrics: statements are counted on the engines the subgraph opens, not on every engine of the
process."""

from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from subgraphs._common import metrics

pytestmark = pytest.mark.db_agnostic


def _select(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def test_statements_are_counted_on_the_engines_attached_only(tmp_path: Path) -> None:
    ours = create_engine(f"sqlite:///{tmp_path / 'ours.db'}")
    other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        metrics.count_statements(ours)
        metrics.count_statements(ours)  # attaching twice counts once
        with metrics.counting() as counted:
            _select(ours)
            _select(other)
            _select(ours)
        _select(ours)  # outside a request: not counted
        assert counted == [2]
    finally:
        ours.dispose()
        other.dispose()
