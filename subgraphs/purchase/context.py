"""Resources of the purchase subgraph's app, and the per-request context built from them."""

from dataclasses import dataclass

from subgraphs._common.context import SubgraphContext, SubgraphResources
from subgraphs.purchase.loaders import Loaders
from subgraphs.purchase.settings import Settings
from subgraphs.purchase.signing import Issuer


@dataclass(frozen=True, slots=True)
class Resources(SubgraphResources[Settings]):
    """What the app opens in its lifespan and every request shares."""

    issuer: Issuer


Context = SubgraphContext[Resources, Loaders]
