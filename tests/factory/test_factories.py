"""Factories and crafts: admin-only management, validation against the shop, public Product.crafts."""

import httpx
import pytest

from tests.factory.fixtures import CREATE_CRAFT, craft_input, make_factory
from tests.shop.fixtures import ADMIN, catalog
from tests.support import codes, gql, token


async def test_factory_lifecycle(factory: httpx.AsyncClient, shop: httpx.AsyncClient) -> None:
    await catalog(shop)
    factory_id = await make_factory(factory)
    craft = (await gql(factory, CREATE_CRAFT, craft_input(factory_id), as_=ADMIN))["data"]["createCraft"]
    assert craft["countPerRun"] == 5 and craft["active"] is True and craft["nextRunAt"].endswith("+00:00")
    assert craft["factory"] == {"name": "Works"} and craft["product"] == {"id": "1"}
    renamed = await gql(
        factory, f'mutation {{ renameFactory(id: "{factory_id}", name: "Plant") {{ name }} }}', as_=ADMIN
    )
    assert renamed["data"]["renameFactory"] == {"name": "Plant"}
    listing = await gql(factory, "{ factories { name crafts { id } } }", as_=ADMIN)
    assert listing["data"]["factories"] == [{"name": "Plant", "crafts": [{"id": craft["id"]}]}]
    assert (await gql(factory, f'mutation {{ deleteFactory(id: "{factory_id}") }}', as_=ADMIN))["data"] == {
        "deleteFactory": factory_id
    }
    after = await gql(factory, f'{{ factories {{ id }} craft(id: "{craft["id"]}") {{ id }} }}', as_=ADMIN)
    assert after["data"] == {"factories": [], "craft": None}


async def test_pause_resume_update_delete_craft(factory: httpx.AsyncClient, shop: httpx.AsyncClient) -> None:
    await catalog(shop)
    factory_id = await make_factory(factory)
    craft_id = (await gql(factory, CREATE_CRAFT, craft_input(factory_id), as_=ADMIN))["data"]["createCraft"][
        "id"
    ]
    paused = await gql(
        factory, f'mutation {{ pauseCraft(id: "{craft_id}") {{ active nextRunAt }} }}', as_=ADMIN
    )
    assert paused["data"]["pauseCraft"] == {"active": False, "nextRunAt": None}
    resumed = await gql(
        factory, f'mutation {{ resumeCraft(id: "{craft_id}") {{ active nextRunAt }} }}', as_=ADMIN
    )
    assert resumed["data"]["resumeCraft"]["active"] is True and resumed["data"]["resumeCraft"]["nextRunAt"]
    update = "mutation($input: UpdateCraftInput!) { updateCraft(input: $input) { countPerRun intervalSeconds product { id } } }"
    changed = await gql(
        factory,
        update,
        {"input": {"id": craft_id, "productId": "2", "countPerRun": 9, "intervalSeconds": 60}},
        as_=ADMIN,
    )
    assert changed["data"]["updateCraft"] == {"countPerRun": 9, "intervalSeconds": 60, "product": {"id": "2"}}
    assert (await gql(factory, f'mutation {{ deleteCraft(id: "{craft_id}") }}', as_=ADMIN))["data"][
        "deleteCraft"
    ] == craft_id
    assert codes(await gql(factory, f'mutation {{ deleteCraft(id: "{craft_id}") }}', as_=ADMIN)) == [
        "NOT_FOUND"
    ]


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"intervalSeconds": 0}, "BAD_USER_INPUT", "intervalSeconds"),
        ({"intervalSeconds": 86401}, "BAD_USER_INPUT", "intervalSeconds"),
        ({"countPerRun": -1}, "BAD_USER_INPUT", "countPerRun"),
        ({"countPerRun": 1_000_001}, "BAD_USER_INPUT", "countPerRun"),
        ({"productId": "999"}, "BAD_USER_INPUT", "productId"),
        ({"factoryId": "999"}, "NOT_FOUND", "factoryId"),
        # Found by fuzzing: an INTERNAL_SERVER_ERROR on PostgreSQL (ids past its 32-bit keys), or on both backends.
        ({"factoryId": str(2**31)}, "BAD_USER_INPUT", "factoryId"),
        ({"productId": "9" * 5000}, "BAD_USER_INPUT", "productId"),
    ],
)
async def test_bad_crafts_are_refused_and_write_nothing(
    factory: httpx.AsyncClient, shop: httpx.AsyncClient, changes: dict[str, object], code: str, field: str
) -> None:
    await catalog(shop)
    factory_id = await make_factory(factory)
    variables = craft_input(factory_id)
    variables["input"].update(changes)  # type: ignore[attr-defined]
    body = await gql(factory, CREATE_CRAFT, variables, as_=ADMIN)
    assert codes(body) == [code]
    assert body["errors"][0]["extensions"]["field"] == field
    assert (await gql(factory, "{ factories { crafts { id } } }", as_=ADMIN))["data"]["factories"] == [
        {"crafts": []}
    ]


async def test_a_factory_name_with_a_nul_character_is_bad_input(factory: httpx.AsyncClient) -> None:
    # Found by fuzzing: PostgreSQL cannot store it, which was an INTERNAL_SERVER_ERROR.
    create = "mutation($name: String!) { createFactory(name: $name) { id } }"
    body = await gql(factory, create, {"name": "Works\x00"}, as_=ADMIN)
    assert (codes(body), body["errors"][0]["extensions"]["field"]) == (["BAD_USER_INPUT"], "name")
    assert (await gql(factory, "{ factories { id } }", as_=ADMIN))["data"] == {"factories": []}


async def test_only_admins_manage_factories(factory: httpx.AsyncClient, shop: httpx.AsyncClient) -> None:
    await catalog(shop)
    factory_id = await make_factory(factory)
    craft_id = (await gql(factory, CREATE_CRAFT, craft_input(factory_id), as_=ADMIN))["data"]["createCraft"][
        "id"
    ]
    customer = token(7)
    for operation in (
        "{ factories { id } }",
        f'{{ factory(id: "{factory_id}") {{ id }} }}',
        f'{{ craft(id: "{craft_id}") {{ id }} }}',
        'mutation { createFactory(name: "Mine") { id } }',
        f'mutation {{ renameFactory(id: "{factory_id}", name: "Mine") {{ id }} }}',
        f'mutation {{ deleteFactory(id: "{factory_id}") }}',
        f'mutation {{ pauseCraft(id: "{craft_id}") {{ id }} }}',
        f'mutation {{ deleteCraft(id: "{craft_id}") }}',
    ):
        assert codes(await gql(factory, operation, as_=customer)) == ["FORBIDDEN"], operation
    assert codes(await gql(factory, CREATE_CRAFT, craft_input(factory_id), as_=customer)) == ["FORBIDDEN"]
    state = await gql(factory, "{ factories { name crafts { active } } }", as_=ADMIN)
    assert state["data"]["factories"] == [{"name": "Works", "crafts": [{"active": True}]}]


async def test_product_crafts_are_public_but_runs_are_not(
    factory: httpx.AsyncClient, shop: httpx.AsyncClient
) -> None:
    await catalog(shop)
    factory_id = await make_factory(factory)
    await gql(factory, CREATE_CRAFT, craft_input(factory_id, count=4), as_=ADMIN)
    query = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id crafts { countPerRun intervalSeconds factory { id name } } } } }"
    reps = [{"__typename": "Product", "id": "1"}, {"__typename": "Product", "id": "2"}]
    body = await gql(factory, query, {"r": reps})
    assert body["data"]["_entities"] == [
        {
            "id": "1",
            "crafts": [
                {"countPerRun": 4, "intervalSeconds": 3600, "factory": {"id": factory_id, "name": "Works"}}
            ],
        },
        {"id": "2", "crafts": []},
    ]
    runs = await gql(
        factory,
        "query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { crafts { runs { id } } } } }",
        {"r": reps[:1]},
    )
    assert codes(runs) == ["UNAUTHENTICATED"]


async def test_renaming_a_factory_to_a_taken_name_is_a_conflict(factory: httpx.AsyncClient) -> None:
    await make_factory(factory, "First")
    second = await make_factory(factory, "Second")
    body = await gql(
        factory, f'mutation {{ renameFactory(id: "{second}", name: "First") {{ name }} }}', as_=ADMIN
    )
    assert codes(body) == ["CONFLICT"]
    assert body["errors"][0]["extensions"]["field"] == "name"
    names = await gql(factory, "{ factories { name } }", as_=ADMIN)
    assert names["data"]["factories"] == [{"name": "First"}, {"name": "Second"}]
