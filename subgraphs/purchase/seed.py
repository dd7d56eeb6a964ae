"""Demo data of the purchase subgraph: one customer, created on the first start."""

from sqlmodel import Session, select

from subgraphs._common.auth import Role
from subgraphs._common.db import Database
from subgraphs.purchase import services
from subgraphs.purchase.models import User

DEMO_LOGIN = "demo"
DEMO_PASSWORD = "demo-password"


async def seed(db: Database) -> bool:
    """Create the demo customer unless it exists; True when it was created."""
    if await db.read(_demo_exists):
        return False
    await services.create_user(
        db,
        login=DEMO_LOGIN,
        password=DEMO_PASSWORD,
        first_name="Demo",
        second_name="Customer",
        role=Role.CUSTOMER,
    )
    return True


def demo_user(session: Session) -> User | None:
    """The demo customer, while it exists."""
    return session.exec(select(User).where(User.login == DEMO_LOGIN)).first()


def _demo_exists(session: Session) -> bool:
    return demo_user(session) is not None
