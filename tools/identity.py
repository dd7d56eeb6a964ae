"""Identity files: purchase's signing key and the services' credentials. `make run` (and every test stack)
makes them on first start under its data folder, never committed; for a deployment an operator makes them
once with `make identity DIR=...` (`python -m tools.identity DIR`) and hands each process its part, named by
the same settings."""

import argparse
import sys
from pathlib import Path

from subgraphs import registry
from subgraphs._common.keys import add_key, list_keys
from subgraphs._common.service_credentials import read_hashes, write_credential

KEYS = "signing-keys"
CREDENTIALS = "service-credentials.json"


def secret_file_name(service: str) -> str:
    """The name of a service's secret in an identity folder."""
    return f"{service}.secret"


def secret_file(folder: Path, service: str) -> Path:
    """Where a service's secret lives in an identity folder."""
    return folder / secret_file_name(service)


def ensure(folder: Path) -> dict[str, str]:
    """Make what is missing in `folder` (a signing key, a credential per service); the settings that point
    every process at it, as environment variables."""
    keys = folder / KEYS
    if not any(key.stopped_signing_at is None for key in list_keys(keys)):
        add_key(keys)
    credentials = folder / CREDENTIALS
    for service in registry.SERVICES:
        known = read_hashes(credentials) if credentials.exists() else {}
        if service not in known or not secret_file(folder, service).exists():
            write_credential(credentials, secret_file(folder, service), service)
    identity = registry.get(registry.IDENTITY).env_prefix
    return {
        f"{identity}SIGNING_KEYS_DIR": str(keys.resolve()),
        f"{identity}SERVICE_CREDENTIALS_FILE": str(credentials.resolve()),
        **{
            f"{registry.get(service).env_prefix}SERVICE_SECRET_FILE": str(
                secret_file(folder, service).resolve()
            )
            for service in registry.SERVICES
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Make the identity files missing in a folder; print the settings that name them."""
    parser = argparse.ArgumentParser(prog="python -m tools.identity", description=main.__doc__)
    parser.add_argument("folder", type=Path, help="the identity folder (made if missing; keep it secret)")
    args = parser.parse_args(argv)
    for setting, value in ensure(args.folder).items():
        sys.stdout.write(f"{setting}={value}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
