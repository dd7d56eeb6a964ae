"""How a purchase was paid: a value both the purchase and the shop subgraph expose.

Declared once because federation requires a value type to be identical in every subgraph that declares it.
"""

import enum

import strawberry


@strawberry.enum
class Payment(enum.Enum):
    CASH = "CASH"
    CARD = "CARD"
