"""What this project asks of Strawberry beyond its documented API, in one place: the router's entity
references answered one batch per type (Strawberry builds the `_entities` field from its `entities_resolver`
method, which `BatchedEntities` overrides), each answer's entity type told by its class, a plain attribute
field read in one call, and the graphql-core schema behind a Strawberry schema (for the metrics' labels).
`BatchedEntities` and `check_supported` verify them whenever a subgraph's schema is built, so a Strawberry
release that changed any fails at start-up with a message naming this file, instead of answering one
reference at a time.
"""

import asyncio
import functools
import inspect
from collections import defaultdict
from collections.abc import Awaitable, Callable
from importlib.metadata import version
from typing import Any

import strawberry
from graphql import (
    GraphQLAbstractType,
    GraphQLFieldResolver,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    GraphQLTypeResolver,
    GraphQLUnionType,
)
from strawberry.federation.schema import FederationAny
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types import Info
from strawberry.types.base import get_object_definition
from strawberry.types.field import StrawberryField
from strawberry.types.union import StrawberryUnion

from subgraphs._common.errors import BadUserInput


class IncompatibleStrawberry(RuntimeError):
    """The installed Strawberry builds federation's `_entities` field in a way this module does not know."""


async def _awaited(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class BatchedEntities(strawberry.federation.Schema):
    """A federation schema whose `_entities` calls each entity type's `resolve_references(info, ids)` once
    with all its ids (a value, None, or an Exception for each); a type with only Strawberry's per-item
    `resolve_reference` is resolved item by item, concurrently, so its DataLoaders batch. Each answer's type
    in the `_Entity` union is told by its class (`_EntityTypeByClass`), and a field that only reads its
    attribute does so in one call (`_resolve_attributes_directly`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _resolve_attributes_directly(graphql_schema(self))
        union = graphql_schema(self).type_map.get("_Entity")
        if union is not None:  # a schema without entities has no union
            if not isinstance(union, GraphQLUnionType) or union.resolve_type is None:
                raise _incompatible("no longer builds _Entity as a union with a type resolver")
            union.resolve_type = _EntityTypeByClass(entity_types(self), union.resolve_type)

    # Async where Strawberry's is sync: the _entities field is built from this method, so it is awaited.
    async def entities_resolver(  # type: ignore[override]
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        entities = self._entity_types
        positions: dict[str, list[int]] = defaultdict(list)
        for index, representation in enumerate(representations):
            if not isinstance(representation, dict) or representation.get("__typename") not in entities:
                raise BadUserInput(
                    "Not a representation of an entity of this subgraph", field="representations"
                )
            if "id" not in representation:
                raise BadUserInput("A representation needs its key field 'id'", field="representations")
            positions[representation["__typename"]].append(index)
        results: list[Any] = [None] * len(representations)
        for type_name, indexes in positions.items():
            batch = getattr(entities[type_name], "resolve_references", None)
            if batch is not None:
                ids = [str(representations[index]["id"]) for index in indexes]  # type: ignore[index]
                found = await batch(info, ids)
            else:
                found = await asyncio.gather(
                    *(
                        _awaited(value)
                        for value in super().entities_resolver(info, [representations[i] for i in indexes])
                    ),
                    return_exceptions=True,
                )
            for index, value in zip(indexes, found, strict=True):
                results[index] = value
        return results

    @functools.cached_property
    def _entity_types(self) -> dict[str, type]:
        return entity_types(self)


class _EntityTypeByClass:
    """The `_Entity` union's type resolver: an entity's type by its class, in one dict lookup. Strawberry's
    resolver tries each type of the schema in turn for each answer (a tenth of a millisecond of the shop's
    request for 50 checks); it still answers for an object of any other class (a subclass, a cast)."""

    def __init__(self, types: dict[str, type], strawberry_resolver: GraphQLTypeResolver) -> None:
        self.names = {origin: name for name, origin in types.items()}
        self.strawberry_resolver = strawberry_resolver

    def __call__(
        self, value: Any, info: GraphQLResolveInfo[Any], union: GraphQLAbstractType
    ) -> Awaitable[str | None] | str | None:
        name = self.names.get(type(value))
        return name if name is not None else self.strawberry_resolver(value, info, union)


def _resolve_attributes_directly(schema: GraphQLSchema) -> None:
    """Give every field that only reads its attribute (Strawberry's "basic" field: no resolver, no field
    extension) a resolver that reads it in one call. Strawberry's own goes three calls deep for each value
    (its wrapper, `StrawberryField.get_result` and two properties), and the flagship's shop part reads 900
    values for 50 checks: a third of a millisecond of its request. Raises IncompatibleStrawberry when
    Strawberry no longer marks those fields' resolvers as it did."""
    basic = replaced = 0
    for graphql_type in schema.type_map.values():
        if not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field in graphql_type.fields.values():
            definition = (field.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(definition, StrawberryField) or not definition.is_basic_field:
                continue
            basic += 1
            # Strawberry's resolver for a basic field, when no exception handler may apply to it.
            if getattr(field.resolve, "__name__", None) == "_get_basic_result":
                field.resolve = _attribute(definition.default_resolver, definition.python_name)
                replaced += 1
    if basic and not replaced:
        raise _incompatible("no longer resolves a basic field with its _get_basic_result")


def _attribute(read: Callable[[Any, str], Any], name: str) -> GraphQLFieldResolver:
    """What Strawberry's resolver of a basic field answers (`read` is the schema's default resolver, getattr
    unless configured), in one call."""

    def resolve(source: Any, _info: GraphQLResolveInfo[Any]) -> Any:
        return read(source, name)

    resolve._is_default = True  # type: ignore[attr-defined]  # how Strawberry's tracing tells a default resolver
    return resolve


def entity_types(schema: strawberry.federation.Schema) -> dict[str, type]:
    """The entity types of `schema` (the members of its `_Entity` union) by GraphQL name."""
    union = schema.get_type_by_name("_Entity")
    if union is None:  # a schema without entities has no union
        return {}
    if not isinstance(union, StrawberryUnion):
        raise IncompatibleStrawberry(f"_Entity is a {type(union).__name__}, not a StrawberryUnion")
    definitions = [get_object_definition(member, strict=True) for member in union.types]
    return {definition.name: definition.origin for definition in definitions}


def graphql_schema(schema: strawberry.Schema) -> GraphQLSchema:
    """The graphql-core schema Strawberry built from `schema`."""
    built = getattr(schema, "_schema", None)
    if not isinstance(built, GraphQLSchema):
        raise _incompatible("no longer keeps the graphql-core schema in Schema._schema")
    return built


def check_supported(schema: strawberry.federation.Schema) -> None:
    """Raise IncompatibleStrawberry unless `schema` works as this module expects: its graphql-core schema is
    where it looks, and its `_entities` field (when it has entities) runs the batching resolver and types its
    answers by class."""
    built = graphql_schema(schema)
    if not entity_types(schema):
        return
    field = schema.get_field_for_type("_entities", "Query")
    resolver = getattr(getattr(field, "base_resolver", None), "wrapped_func", None)
    if getattr(resolver, "__func__", None) is not BatchedEntities.entities_resolver:
        raise _incompatible(
            "no longer builds the _entities field from Schema.entities_resolver, so entity references "
            "would not be batched by type"
        )
    union = built.type_map["_Entity"]
    if not isinstance(getattr(union, "resolve_type", None), _EntityTypeByClass):
        raise _incompatible("no longer keeps the type resolver BatchedEntities gives the _Entity union")


def _incompatible(what: str) -> IncompatibleStrawberry:
    return IncompatibleStrawberry(
        f"strawberry-graphql {version('strawberry-graphql')} {what}: adapt "
        "subgraphs/_common/strawberry_adapter.py to it, or pin the last release that works"
    )
