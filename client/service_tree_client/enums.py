from enum import Enum


class CraftRunStatus(str, Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class Payment(str, Enum):
    CASH = "CASH"
    CARD = "CARD"


class Role(str, Enum):
    CUSTOMER = "CUSTOMER"
    ADMIN = "ADMIN"
