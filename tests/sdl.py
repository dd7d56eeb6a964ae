"""SDL documents (the committed schema files, the design contract) as the schema tests read them: their type
definitions, by kind."""

from collections.abc import Iterator

from graphql import (
    DocumentNode,
    EnumTypeDefinitionNode,
    InputObjectTypeDefinitionNode,
    ObjectTypeDefinitionNode,
    ObjectTypeExtensionNode,
)

ObjectType = ObjectTypeDefinitionNode | ObjectTypeExtensionNode
NamedType = ObjectType | InputObjectTypeDefinitionNode | EnumTypeDefinitionNode


def object_types(document: DocumentNode) -> Iterator[ObjectType]:
    """Every object type of `document`, its extensions included."""
    for definition in document.definitions:
        if isinstance(definition, ObjectTypeDefinitionNode | ObjectTypeExtensionNode):
            yield definition


def named_types(document: DocumentNode) -> Iterator[NamedType]:
    """Every object (extensions included), input and enum type of `document`."""
    for definition in document.definitions:
        if isinstance(definition, NamedType):
            yield definition


def enum_type(document: DocumentNode, name: str) -> EnumTypeDefinitionNode | None:
    """The enum type called `name`, if `document` has one."""
    for definition in document.definitions:
        if isinstance(definition, EnumTypeDefinitionNode) and definition.name.value == name:
            return definition
    return None
