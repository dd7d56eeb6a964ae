"""Settings shared by every subgraph; each subgraph subclasses with its own env prefix."""

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "development-only-secret-change-me-0123456789"


class SubgraphSettings(BaseSettings):
    """Common knobs: where the database is and how tokens are signed (uvicorn takes host and port)."""

    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    database_url: str
    # Shared by all subgraphs (one signing secret for the whole graph), hence no per-subgraph prefix.
    environment: str = Field(default="development", validation_alias="SERVICE_TREE_ENV")
    jwt_secret: str = Field(default=DEVELOPMENT_SECRET, validation_alias="SERVICE_TREE_JWT_SECRET")
    token_ttl_seconds: int = Field(default=24 * 3600, validation_alias="SERVICE_TREE_TOKEN_TTL_SECONDS")
    max_body_bytes: int = 1_000_000
    # Finished work (delivered runs, deliveries, sent outbox rows) is kept this long, then pruned; it must
    # outlast the longest outage a retry may span.
    retention_days: float = 7.0
    prune_interval_seconds: float = 300.0
    # Events one live subscriber may have waiting; past that it is ended (SUBSCRIBER_TOO_SLOW), not buffered.
    subscriber_backlog: int = Field(default=100, ge=1)

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> "SubgraphSettings":
        if self.environment != "development" and self.jwt_secret == DEVELOPMENT_SECRET:
            raise ValueError("SERVICE_TREE_JWT_SECRET must be set outside development")
        if len(self.jwt_secret) < 32:
            raise ValueError("SERVICE_TREE_JWT_SECRET must be at least 32 characters")
        return self
