"""An event's answer executed once for the subscriptions that get the very same one (one connection, one
operation, equal variables), counted by the resolver's calls; any difference, an error, or a payload not shared
and each subscription executes its own."""

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import pytest
import strawberry
from strawberry.extensions import ParserCache

from subgraphs._common.shared_answers import SharedAnswers, share

pytestmark = pytest.mark.db_agnostic

CALLS: list[tuple[int, int]] = []  # (payload's n, k) for each execution of Thing.value


@strawberry.type
class Thing:
    n: int

    @strawberry.field
    def value(self, info: strawberry.Info, k: int) -> int:
        CALLS.append((self.n, k))
        if self.n < 0:
            raise ValueError("no such thing")
        return self.n * k


PAYLOADS: list[Thing] = []


@strawberry.type
class Query:
    a: int = 1


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def things(self) -> AsyncGenerator[Thing, None]:
        for payload in PAYLOADS:
            yield payload


schema = strawberry.Schema(
    query=Query,
    subscription=Subscription,
    extensions=[lambda: ParserCache(maxsize=16)],  # as every subgraph: one parsed document per query text
    execution_context_class=SharedAnswers,
)
QUERY = "subscription($k: Int!) { things { n value(k: $k) } }"


async def _answers(context: object, k: int = 2, query: str = QUERY) -> list[Any]:
    stream = await schema.subscribe(query, variable_values={"k": k}, context_value=context)
    assert isinstance(stream, AsyncIterator)
    return [(result.data, [error.message for error in result.errors or ()]) async for result in stream]


@pytest.fixture(autouse=True)
def _fresh() -> None:
    CALLS.clear()
    PAYLOADS.clear()


async def test_subscriptions_of_one_connection_with_one_operation_share_each_events_answer() -> None:
    PAYLOADS.extend([share(Thing(n=1)), share(Thing(n=2))])
    connection = object()
    answers = [await _answers(connection) for _ in range(5)]
    expected: list[Any] = [({"things": {"n": 1, "value": 2}}, []), ({"things": {"n": 2, "value": 4}}, [])]
    assert answers == [expected] * 5
    assert CALLS == [(1, 2), (2, 2)]  # once per event, not once per subscription


async def test_other_variables_another_connection_or_another_operation_execute_their_own() -> None:
    PAYLOADS.append(share(Thing(n=3)))
    connection = object()
    await _answers(connection, k=1)
    await _answers(connection, k=1)  # shared with the first
    await _answers(connection, k=5)
    await _answers(object(), k=1)  # another caller: permissions may differ
    await _answers(connection, k=1, query="subscription($k: Int!) { things { value(k: $k) n } }")
    assert sorted(CALLS) == [(3, 1), (3, 1), (3, 1), (3, 5)]


async def test_a_payload_not_shared_and_an_answer_with_errors_are_executed_for_each() -> None:
    PAYLOADS.extend([Thing(n=4), share(Thing(n=-1))])
    connection = object()
    answers = [await _answers(connection) for _ in range(3)]
    assert all(answer[1][1] == ["no such thing"] for answer in answers)
    assert CALLS == [(4, 2), (-1, 2)] * 3
