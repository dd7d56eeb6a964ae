"""Resources of the shop subgraph's app, and the per-request context built from them."""

from dataclasses import dataclass

from subgraphs._common.context import SubgraphContext, SubgraphResources
from subgraphs.shop.loaders import Loaders
from subgraphs.shop.outbox import OutboxRelay
from subgraphs.shop.settings import Settings


@dataclass(frozen=True, slots=True)
class Resources(SubgraphResources[Settings]):
    """What the app opens in its lifespan and every request shares."""

    relay: OutboxRelay


Context = SubgraphContext[Resources, Loaders]
