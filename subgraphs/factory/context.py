"""Resources of the factory subgraph's app, and the per-request context built from them."""

from dataclasses import dataclass

from subgraphs._common.context import SubgraphContext, SubgraphResources
from subgraphs.factory.clients import RouterClient
from subgraphs.factory.jobs import Deliveries
from subgraphs.factory.loaders import Loaders
from subgraphs.factory.scheduler import CraftScheduler
from subgraphs.factory.settings import Settings


@dataclass(frozen=True, slots=True)
class Resources(SubgraphResources[Settings]):
    """What the app opens in its lifespan and every request shares."""

    router: RouterClient
    scheduler: CraftScheduler
    deliveries: Deliveries


Context = SubgraphContext[Resources, Loaders]
