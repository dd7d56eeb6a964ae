"""Fixtures of the end-to-end tests: a real stack (subgraph processes and the router), an ADMIN, a client."""

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.helpers import Router, admin_token, stack_fixture
from tools.stack import Stack

# The whole system for one test module; stopped at the end of the module, even on failure.
stack = stack_fixture("stack")


@pytest.fixture(scope="module")
def admin(stack: Stack) -> str:
    """A token of an ADMIN created by the operator command, logged in through the router."""
    return admin_token(stack)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0)) as client:
        yield client


@pytest.fixture
def router(http: httpx.AsyncClient, stack: Stack) -> Router:
    """GraphQL calls through the router of the module's stack."""
    return Router(http, stack.router_url)
