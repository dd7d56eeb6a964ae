"""Demo data of the purchase subgraph: one customer, created on the first start."""

from sqlmodel import select

from subgraphs._common.auth import Role
from subgraphs._common.db import Database
from subgraphs.purchase import services
from subgraphs.purchase.models import User

DEMO_LOGIN = "demo"
DEMO_PASSWORD = "demo-password"


async def seed(db: Database) -> bool:
    """Create the demo customer unless it exists; True when it was created."""
    async with db.read() as session:
        if (await session.exec(select(User.id).where(User.login == DEMO_LOGIN))).first() is not None:
            return False
    user = await services.new_user(
        login=DEMO_LOGIN,
        password=DEMO_PASSWORD,
        first_name="Demo",
        second_name="Customer",
        role=Role.CUSTOMER,
    )
    async with db.write() as session:
        await services.add_user(session, user)
    return True
