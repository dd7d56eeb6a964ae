"""Factory subgraph settings, from FACTORY_* environment variables."""

from pydantic_settings import SettingsConfigDict

from subgraphs._common.settings import SubgraphSettings


class Settings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="FACTORY_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite:///var/factory.db"
    # Deliveries and product checks go through the router, like any client's calls.
    router_url: str = "http://127.0.0.1:4000/graphql"
    request_timeout_seconds: float = 5.0
    # Exactly one scheduler may run per factory database; turn it off for extra API replicas.
    scheduler_enabled: bool = True
    # Failed deliveries are retried with exponential backoff, up to this many attempts in all.
    delivery_max_attempts: int = 8
    delivery_retry_seconds: float = 0.5
    delivery_max_backoff_seconds: float = 30.0
