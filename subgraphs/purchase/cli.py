"""Operator commands: `python -m subgraphs.purchase.cli create-admin --login NAME`, and the signing keys of
PURCHASE_SIGNING_KEYS_DIR: `keys add [--publish-seconds N]` (a new key, published at once, signing N seconds
later), `keys list`, `keys retire KID` (once the last token it signed has expired)."""

import argparse
import asyncio
import getpass
import logging
import sys
from datetime import timedelta
from pathlib import Path

from subgraphs._common import keys
from subgraphs._common.auth import Role
from subgraphs._common.db import Database, utcnow
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


def _keys(args: argparse.Namespace) -> int:
    settings = Settings()
    folder = Path(settings.signing_keys_dir)
    try:
        if args.action == "add":
            kid = keys.add_key(folder, publish_for=timedelta(seconds=args.publish_seconds))
            added = next(key for key in keys.list_keys(folder) if key.kid == kid)
            logger.info(
                "added key %s to %s; published now, it signs from %s UTC",
                kid,
                folder,
                f"{added.signs_from:%Y-%m-%d %H:%M:%S}",
            )
        elif args.action == "retire":
            keys.retire_key(folder, args.kid, token_life=settings.token_life, force=args.force)
            logger.info("retired key %s: its tokens are refused from now on", args.kid)
        else:
            now = utcnow()
            for key in keys.list_keys(folder):
                stopped = key.stopped_signing_at
                if key.signs_from > now:
                    state = f"published; signs from {key.signs_from:%Y-%m-%d %H:%M:%S}"
                elif stopped is None:
                    state = "signs"
                else:
                    ended = "stopped" if stopped <= now else "stops"
                    retire_after = f"retire after {stopped + settings.token_life:%Y-%m-%d %H:%M:%S}"
                    state = f"{ended} signing {stopped:%Y-%m-%d %H:%M:%S}; {retire_after}"
                logger.info("%s  added %s  %s", key.kid, f"{key.added_at:%Y-%m-%d %H:%M:%S}", state)
    except keys.KeyProblem as problem:
        logger.error("refused: %s", problem)
        return 1
    return 0


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
    key_commands = commands.add_parser(
        "keys", help="the signing keys of PURCHASE_SIGNING_KEYS_DIR (times in UTC)"
    ).add_subparsers(dest="action", required=True)
    add = key_commands.add_parser(
        "add", help="add a key, published at once, signing now or later; the old one stays until retired"
    )
    add.add_argument(
        "--publish-seconds",
        type=float,
        default=0.0,
        help="publish the key this long before it signs: as long as every copy of the folder takes to update "
        "(a Kubernetes Secret: 120); 0 (the default) where the processes that sign share the folder",
    )
    key_commands.add_parser("list", help="the keys, which one signs, and when each may be retired")
    retire = key_commands.add_parser(
        "retire", help="remove a key that stopped signing, once its tokens expired"
    )
    retire.add_argument("kid")
    retire.add_argument("--force", action="store_true", help="retire now: its live tokens are refused")
    args = parser.parse_args(argv)
    if args.command == "keys":
        return _keys(args)
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
