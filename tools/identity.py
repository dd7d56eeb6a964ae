"""Development identity: the signing key and the services' credentials `make run` (and every test stack)
makes on first start under its data folder, never committed; outside development they come from files an
operator provides, named by the same settings."""

from pathlib import Path

from subgraphs import registry
from subgraphs._common.keys import add_key, list_keys
from subgraphs._common.service_credentials import read_hashes, write_credential

KEYS = "signing-keys"
CREDENTIALS = "service-credentials.json"


def secret_file(folder: Path, service: str) -> Path:
    """Where a service's secret lives in a development identity folder."""
    return folder / f"{service}.secret"


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
