"""Purchase data built through the API: accounts."""

import httpx

from tests.support import gql

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { token expiresAt refreshToken refreshExpiresAt user { id login firstName secondName role } }
}"""
LOGIN = "mutation($l: String!, $p: String!) { login(login: $l, password: $p) { token user { id } } }"


def account(login: str = "alice", password: str = "correct-horse", **names: str) -> dict[str, object]:
    return {
        "input": {
            "login": login,
            "password": password,
            "firstName": "Alice",
            "secondName": "Liddell",
            **names,
        }
    }


async def register(client: httpx.AsyncClient, login: str = "alice") -> tuple[str, str]:
    body = await gql(client, REGISTER, account(login))
    payload = body["data"]["register"]
    return payload["token"], payload["user"]["id"]
