"""Operator commands: `python -m subgraphs.purchase.cli create-admin --login NAME`."""

import argparse
import asyncio
import getpass
import logging
import sys

from subgraphs._common.auth import Role
from subgraphs._common.db import Database
from subgraphs._common.errors import AppError
from subgraphs.purchase import services
from subgraphs.purchase.settings import Settings

logger = logging.getLogger("purchase.cli")


async def _create_admin(login: str, password: str, first_name: str, second_name: str) -> int:
    db = Database(Settings().database_url)
    try:
        user = await services.create_user(
            db,
            login=login,
            password=password,
            first_name=first_name,
            second_name=second_name,
            role=Role.ADMIN,
        )
        return user.id or 0
    finally:
        await db.dispose()


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(prog="python -m subgraphs.purchase.cli")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create-admin", help="create an ADMIN user (the API never creates admins)")
    create.add_argument("--login", required=True)
    create.add_argument("--first-name", default="Admin")
    create.add_argument("--second-name", default="Operator")
    create.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    args = parser.parse_args(argv)
    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass("Password: ")
    try:
        user_id = asyncio.run(_create_admin(args.login, password, args.first_name, args.second_name))
    except AppError as error:
        logger.error("refused: %s", error.message)
        return 1
    logger.info("created ADMIN %r with id %s", args.login, user_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
