"""Settings shared by every subgraph; each subgraph subclasses with its own env prefix."""

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from subgraphs._common.errors import AppError


class MissingSetting(AppError):
    """A file a setting names is not there (outside development a start-up error, naming the setting)."""


class SubgraphSettings(BaseSettings):
    """Common knobs: where the database is, how tokens are checked (uvicorn takes host and port)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str
    # Shared by all subgraphs, hence no per-subgraph prefix.
    environment: str = Field(default="development", validation_alias="SERVICE_TREE_ENV")
    # The JWKS is read again this often (a retired key is refused within this time), and at once for a key
    # id not seen before; ended sessions are asked for this often (a session ended is refused within it).
    jwks_max_age_seconds: float = Field(default=60.0, validation_alias="SERVICE_TREE_JWKS_MAX_AGE_SECONDS")
    ended_sessions_poll_seconds: float = Field(
        default=1.0, validation_alias="SERVICE_TREE_ENDED_SESSIONS_POLL_SECONDS"
    )
    max_body_bytes: int = 1_000_000
    # Finished work (delivered runs, deliveries, sent outbox rows) is kept this long, then pruned; it must
    # outlast the longest outage a retry may span.
    retention_days: float = 7.0
    prune_interval_seconds: float = 300.0
    # Events one live subscriber may have waiting; past that it is ended (SUBSCRIBER_TOO_SLOW), not buffered.
    subscriber_backlog: int = Field(default=100, ge=1)

    def require_outside_development(self, *fields: str) -> None:
        """Outside development, `fields` must be set (their defaults are this machine's development files and
        addresses): a start-up error naming the variable otherwise."""
        if self.environment == "development":
            return
        for name in fields:
            if name not in self.model_fields_set:
                alias = type(self).model_fields[name].validation_alias
                prefix = self.model_config.get("env_prefix", "")
                variable = alias if isinstance(alias, str) else f"{prefix}{name.upper()}"
                raise ValueError(f"{variable} must be set outside development")


class ServiceSettings(SubgraphSettings):
    """A subgraph that verifies tokens with purchase's public keys and calls as a SERVICE with a credential
    of its own (client id: its name); each sets the default of `service_secret_file`."""

    # Purchase's identity endpoints: /.well-known/jwks.json, /sessions/ended, /oauth/token.
    identity_url: str = Field(default="http://127.0.0.1:4001", validation_alias="SERVICE_TREE_IDENTITY_URL")
    service_secret_file: str

    @model_validator(mode="after")
    def _identity_set_outside_development(self) -> "ServiceSettings":
        self.require_outside_development("identity_url", "service_secret_file")
        return self

    def service_secret(self) -> str:
        """The service's secret, from the file its setting names; a missing one is an error naming it."""
        variable = f"{self.model_config.get('env_prefix', '')}SERVICE_SECRET_FILE"
        path = Path(self.service_secret_file)
        try:
            secret = path.read_text().strip()
        except FileNotFoundError:
            raise MissingSetting(
                f"{variable}: no service secret at {path} (make run creates one in development)"
            ) from None
        if not secret:
            raise MissingSetting(f"{variable}: {path} is empty")
        return secret
