"""Factory subgraph settings, from FACTORY_* environment variables."""

from pydantic_settings import SettingsConfigDict

from subgraphs._common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="FACTORY_")  # merged with SubgraphSettings' config

    database_url: str = "sqlite:///var/factory.db"
    # Its own credential: the secret it trades at purchase for SERVICE tokens (client id "factory").
    service_secret_file: str = "var/identity/factory.secret"
    # Deliveries and product checks go through the router, like any client's calls.
    router_url: str = "http://127.0.0.1:4000/graphql"
    request_timeout_seconds: float = 5.0
    # Whether this process may run the scheduler. One process per database runs it: on SQLite the first
    # (a second refuses to start; turn it off for API-only replicas), on PostgreSQL whichever holds the lock,
    # the others standing by. A process taking over makes up the slots of the last this many seconds.
    scheduler_enabled: bool = True
    handover_catch_up_seconds: float = 600.0
    # A delivery that fails for a reason retrying can fix (router, shop or network down, timeout) is retried
    # for as long as that lasts: after delivery_retry_seconds, doubling up to delivery_max_backoff_seconds.
    delivery_retry_seconds: float = 0.5
    delivery_max_backoff_seconds: float = 30.0
