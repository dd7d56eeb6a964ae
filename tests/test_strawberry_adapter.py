"""Entity references are answered one batch per type, through the one adapter that knows how Strawberry builds
`_entities`; a Strawberry release that builds it otherwise is refused with a message that says so."""

import importlib
from typing import Any, Self

import pytest
import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from subgraphs import registry
from subgraphs._common.schema import SubgraphSchema
from subgraphs._common.strawberry_adapter import IncompatibleStrawberry, check_supported, entity_types

pytestmark = pytest.mark.db_agnostic

BATCHES: list[list[str]] = []


@strawberry.federation.type(keys=["id"])
class Batched:
    id: strawberry.ID

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Self | None]:
        BATCHES.append(ids)
        return [cls(id=strawberry.ID(value)) if value != "missing" else None for value in ids]


@strawberry.federation.type(keys=["id"])
class OneByOne:
    id: strawberry.ID

    @classmethod
    def resolve_reference(cls, id: strawberry.ID) -> Self:
        return cls(id=id)


class LoadedLater(Batched):
    """Not an entity's own class: its type is found by Strawberry's rules, as the adapter leaves it to them."""


@strawberry.federation.type(keys=["id"])
class Subclassed:
    id: strawberry.ID

    @classmethod
    async def resolve_references(cls, info: Info, ids: list[str]) -> list[Batched]:
        return [LoadedLater(id=strawberry.ID(value)) for value in ids]


@strawberry.type
class Query:
    @strawberry.field
    def ok(self) -> bool:
        return True


@strawberry.type
class Mutation:
    @strawberry.field
    def noop(self) -> bool:
        return True


ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Batched { id } ... on OneByOne { id } } }"


async def test_one_call_per_type_with_every_id_in_order() -> None:
    schema = SubgraphSchema(query=Query, mutation=Mutation, types=[Batched, OneByOne])
    representations = [
        {"__typename": "Batched", "id": "1"},
        {"__typename": "OneByOne", "id": "7"},
        {"__typename": "Batched", "id": "missing"},
        {"__typename": "Batched", "id": "3"},
    ]
    BATCHES.clear()
    result = await schema.execute(ENTITIES, variable_values={"r": representations})
    assert result.errors is None
    assert result.data == {
        "_entities": [
            {"__typename": "Batched", "id": "1"},
            {"__typename": "OneByOne", "id": "7"},
            None,
            {"__typename": "Batched", "id": "3"},
        ]
    }
    assert BATCHES == [["1", "missing", "3"]]


async def test_an_answer_of_another_class_is_typed_by_strawberry() -> None:
    schema = SubgraphSchema(query=Query, mutation=Mutation, types=[Batched, Subclassed])
    representations = [{"__typename": "Subclassed", "id": "5"}, {"__typename": "Batched", "id": "6"}]
    result = await schema.execute(
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Batched { id } } }",
        variable_values={"r": representations},
    )
    assert result.errors is None
    assert result.data == {
        "_entities": [{"__typename": "Batched", "id": "5"}, {"__typename": "Batched", "id": "6"}]
    }


class Shouting(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: Info, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).upper()


@strawberry.type
class Fields:
    plain: str
    renamed_in_graphql: str
    extended: str = strawberry.field(extensions=[Shouting()])

    @strawberry.field
    def resolved(self) -> str:
        return f"resolved from {self.plain}"


@strawberry.type
class FieldsQuery:
    @strawberry.field
    def fields(self) -> Fields:
        return Fields(plain="plain", renamed_in_graphql="renamed", extended="extended")


async def test_only_fields_that_read_their_attribute_are_read_directly() -> None:
    schema = SubgraphSchema(query=FieldsQuery, mutation=Mutation)
    result = await schema.execute("{ fields { plain renamedInGraphql extended resolved } }")
    assert result.errors is None
    assert result.data == {
        "fields": {
            "plain": "plain",
            "renamedInGraphql": "renamed",
            "extended": "EXTENDED",
            "resolved": "resolved from plain",
        }
    }


@pytest.mark.parametrize("name", registry.NAMES)
def test_every_subgraph_batches_its_entities(name: str) -> None:
    module, _, attribute = registry.get(name).schema.partition(":")
    schema = getattr(importlib.import_module(module), attribute)
    check_supported(schema)
    assert entity_types(schema), f"{name} has no entity types"


def test_a_schema_that_does_not_resolve_entities_through_the_adapter_is_refused_loudly() -> None:
    plain = strawberry.federation.Schema(query=Query, types=[Batched])
    assert set(entity_types(plain)) == {"Batched"}
    with pytest.raises(IncompatibleStrawberry, match=r"subgraphs/_common/strawberry_adapter\.py"):
        check_supported(plain)
