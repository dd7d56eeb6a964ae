"""schemathesis fuzzes every operation of the router's public schema as a CUSTOMER and as an ADMIN: every answer
is JSON, none is a 5xx, every error carries a code of the contract (never INTERNAL_SERVER_ERROR) and no stack
trace, and every process of the stack stays up."""

import asyncio
import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
import schemathesis
from graphql import get_named_type, is_leaf_type
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.core.result import Ok
from schemathesis.graphql import nodes
from schemathesis.schemas import APIOperation
from schemathesis.specs.graphql.scalars import CUSTOM_SCALARS
from schemathesis.specs.graphql.schemas import GraphQLSchema

from subgraphs._common.auth import Role
from tests.e2e.helpers import (
    Router,
    admin_token,
    bought,
    create_catalog,
    create_craft,
    create_factory,
    register,
)
from tests.support import token
from tools.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.db_agnostic]

logger = logging.getLogger(__name__)

EXAMPLES = 50  # generated cases per operation and role
BUDGET_SECONDS = 130.0  # per role (about 40 s are needed on an idle machine); both roles stay under 5 minutes
REQUEST_TIMEOUT = 15.0  # an answer slower than this counts as a hang
# What the API's contract answers for requests it refuses (docs/api.md, error codes): a client's mistake or a business rule.
EXPECTED_CODES = frozenset(
    {
        "BAD_REQUEST",
        "BAD_USER_INPUT",
        "CONFLICT",
        "FORBIDDEN",
        "GRAPHQL_PARSE_FAILED",
        "GRAPHQL_VALIDATION_FAILED",
        "INSUFFICIENT_STOCK",
        "NOT_FOUND",
        "PAYLOAD_TOO_LARGE",
        "RATE_LIMITED",
        "UNAUTHENTICATED",
    }
)
LEAKS = ("Traceback", "node_modules", 'File "/')

# IDs are decimal keys: small ones name the rows the fixture made (and those the fuzzing makes), so the cases reach
# real shops, products, crafts and purchases as well as malformed and unknown IDs.
IDS = st.one_of(
    st.integers(min_value=1, max_value=12).map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.text(max_size=30),
).map(nodes.String)


@dataclass
class Finding:
    operation: str
    problem: str
    query: str

    def __str__(self) -> str:
        return f"{self.operation}: {self.problem}\n    {self.query}"


@dataclass
class Run:
    """What fuzzing one role found: cases sent per operation, problems, operations the budget left out."""

    cases: Counter[str] = field(default_factory=Counter)
    findings: list[Finding] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def problems(response: Any) -> list[str]:
    """What is wrong with one answer of the router, by the contract; nothing for an expected refusal."""
    if response.status_code >= 500:
        return [f"HTTP {response.status_code}: {response.content[:300]!r}"]
    try:
        body = json.loads(response.content)
    except ValueError:
        return [f"not JSON (HTTP {response.status_code}): {response.content[:300]!r}"]
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        return [f"not a GraphQL answer (HTTP {response.status_code}): {response.content[:300]!r}"]
    found = []
    for error in body.get("errors") or []:
        code = (error.get("extensions") or {}).get("code")
        if code not in EXPECTED_CODES:
            found.append(f"code {code} (HTTP {response.status_code}): {error.get('message')!r}")
    text = response.content.decode(errors="replace")
    found += [f"leaks {leak!r}: {text[:300]}" for leak in LEAKS if leak in text]
    return found


def first_of_each(findings: list[Finding]) -> list[str]:
    """One example of each kind of finding (operation and problem), with how often it came."""
    kinds = Counter((finding.operation, finding.problem) for finding in findings)
    first = {(finding.operation, finding.problem): finding for finding in reversed(findings)}
    return [f"{count} x {first[kind]}" for kind, count in kinds.items()]


def dead(stack: Stack) -> list[str]:
    """The processes of the stack that are no longer running."""
    return [name for name, process in stack.processes.items() if not process.alive()]


def fuzz_operation(
    operation: APIOperation[Any, Any, Any, Any],
    stack: Stack,
    headers: dict[str, str],
    run: Run,
    deadline: float,
) -> None:
    """EXAMPLES generated cases of one operation, each sent with `headers` until the monotonic `deadline`; what
    they found goes into `run`."""

    # Shrinking is off: every failing case is recorded as generated and the run goes on.
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def send(case: Case[Any]) -> None:
        if time.monotonic() > deadline:  # slow answers: what is left is not sent, and the count shows it
            return
        run.cases[operation.label] += 1
        try:
            response = case.call(headers=headers, timeout=REQUEST_TIMEOUT)
        except Exception as error:  # a refused connection or a hang is a finding, not the end of the run
            found = [f"no answer: {error!r}"]
        else:
            found = problems(response)
        found += [f"process {name} died" for name in dead(stack)]
        run.findings += [Finding(operation.label, problem, str(case.body)) for problem in found]

    send()


def fuzz(schema: GraphQLSchema, stack: Stack, token: str) -> Run:
    """Every operation of the schema with `token`, until the budget runs out or a process dies."""
    run = Run()
    headers = {"Authorization": f"Bearer {token}"}
    deadline = time.monotonic() + BUDGET_SECONDS
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operation = result.ok()
        if time.monotonic() > deadline:
            run.left_out.append(operation.label)
        elif not dead(stack):
            fuzz_operation(operation, stack, headers, run, deadline)
    return run


async def _seed(url: str, admin: str) -> str:
    """A shop with products, a factory with a craft, a CUSTOMER with a purchase and a category; its token."""
    async with httpx.AsyncClient(timeout=60) as client:
        router = Router(client, url)
        catalog = await create_catalog(
            router,
            admin,
            {"Dairy": [("Milk", 90, 1000), ("Kefir", 120, 3)], "Bakery": [("Bread", 45, 100)]},
            prefix="Fuzz",
        )
        factory = await create_factory(router, admin)
        milk = catalog.products["Milk"].id
        await create_craft(router, admin, factory.id, milk, count=2, interval=3600)
        customer = await register(router, "fuzz")
        await bought(router, customer.token, catalog.shop_id, [(milk, 2), (catalog.products["Bread"].id, 1)])
        await router.data('mutation { createUserCategory(name: "Food") { id } }', token=customer.token)
        return customer.token


async def _user_id(url: str, token: str) -> str:
    async with httpx.AsyncClient(timeout=60) as client:
        user_id: str = (await Router(client, url).data("{ me { id } }", token=token))["me"]["id"]
        return user_id


@pytest.fixture(scope="module")
def tokens(stack: Stack) -> dict[str, str]:
    """A token per role, for a stack with a little of everything in it: signed as purchase signs them, of a
    session that exists nowhere, so that what the fuzzing sends (logoutEverywhere, changePassword,
    setUserDisabled, ...) cannot end it halfway through the run."""
    admin = admin_token(stack)
    customer = asyncio.run(_seed(stack.router_url, admin))
    return {
        "ADMIN": token(asyncio.run(_user_id(stack.router_url, admin)), Role.ADMIN),
        "CUSTOMER": token(asyncio.run(_user_id(stack.router_url, customer))),
    }


@pytest.fixture(scope="module")
def schema(stack: Stack) -> Iterator[GraphQLSchema]:
    """The router's public schema, by introspection (on in development), with the IDs above."""
    schemathesis.graphql.scalar("ID", IDS)
    try:
        yield schemathesis.graphql.from_url(stack.router_url, timeout=30)
    finally:
        CUSTOM_SCALARS.pop("ID", None)


@pytest.mark.parametrize("role", ["CUSTOMER", "ADMIN"])
def test_fuzzing_every_operation_finds_no_server_error(
    stack: Stack, schema: GraphQLSchema, tokens: dict[str, str], role: str, request: pytest.FixtureRequest
) -> None:
    client = schema.client_schema
    public = {
        f"{root.name}.{name}"
        for root in (client.query_type, client.mutation_type)
        if root
        for name in root.fields
    }
    started = time.monotonic()
    run = fuzz(schema, stack, tokens[role])
    seconds = time.monotonic() - started

    summary = (
        f"{role}: {sum(run.cases.values())} cases over {len(run.cases)} operations in {seconds:.0f} s, "
        f"{len(run.findings)} findings"
    )
    request.node.user_properties.append((f"fuzz_{role}", summary))
    logger.info("%s; cases per operation: %s", summary, dict(run.cases))
    assert not run.findings, f"{summary}:\n" + "\n".join(map(str, first_of_each(run.findings)))
    assert not run.left_out, f"{summary}; out of time before {run.left_out}"
    assert set(run.cases) == public, public ^ set(run.cases)  # every operation of the public schema
    # An operation without arguments that answers a scalar (logoutEverywhere) has only a couple of documents.
    exhausted = {
        f"{root.name}.{name}"
        for root in (client.query_type, client.mutation_type)
        if root
        for name, definition in root.fields.items()
        if not definition.args and is_leaf_type(get_named_type(definition.type))
    }
    few = {label: count for label, count in run.cases.items() if count < EXAMPLES and label not in exhausted}
    assert not few, f"fewer than {EXAMPLES} cases: {few}"
