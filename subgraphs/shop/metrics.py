"""The shop's metrics, from its database: the outbox backlog (purchases not yet recorded) and its age."""

from collections.abc import Sequence

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlmodel import Session

from subgraphs._common.db import as_utc, utcnow
from subgraphs.shop.models import Check, Outbox

_OUTBOX = Outbox.__table__.c  # type: ignore[attr-defined]
_CHECK = Check.__table__.c  # type: ignore[attr-defined]


def gauges(session: Session) -> Sequence[Metric]:
    """Purchases waiting to be recorded, the age of the oldest, and those refused for good."""
    waiting, oldest = session.execute(
        select(func.count(), func.min(_CHECK.created_at))
        .select_from(Outbox.__table__.join(Check.__table__, _CHECK.id == _OUTBOX.check_id))  # type: ignore[attr-defined]
        .where(_OUTBOX.sent_at.is_(None), _OUTBOX.failed_at.is_(None))
    ).one()
    failed = session.execute(select(func.count()).where(_OUTBOX.failed_at.is_not(None))).scalar_one()
    age = (utcnow() - as_utc(oldest)).total_seconds() if oldest is not None else 0.0
    return [
        GaugeMetricFamily("service_tree_outbox_backlog", "Purchases not yet recorded", value=waiting),
        GaugeMetricFamily(
            "service_tree_outbox_oldest_age_seconds", "Age of the oldest purchase not yet recorded", value=age
        ),
        GaugeMetricFamily(
            "service_tree_outbox_failed", "Purchases refused for good (see Check.recording)", value=failed
        ),
    ]
