"""Shop subgraph settings, from SHOP_* environment variables."""

from pydantic_settings import SettingsConfigDict

from subgraphs._common.settings import ServiceSettings


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(env_prefix="SHOP_")  # merged with SubgraphSettings' config

    database_url: str = "sqlite:///var/shop.db"
    # Its own credential: the secret it trades at purchase for SERVICE tokens (client id "shop").
    service_secret_file: str = "var/identity/shop.secret"
    # The purchase subgraph, called directly (not through the router) to record purchases.
    purchase_url: str = "http://127.0.0.1:4001/graphql"
    purchase_timeout_seconds: float = 5.0
    # buy records the purchase at once, but waits at most this long: the outbox relay takes over after that.
    purchase_inline_timeout_seconds: float = 2.0
    # How often the outbox relay looks for purchases that are still to be recorded; a failed record is
    # retried after outbox_retry_seconds, doubling each time up to outbox_max_backoff_seconds.
    outbox_interval_seconds: float = 1.0
    outbox_retry_seconds: float = 0.5
    outbox_max_backoff_seconds: float = 30.0
