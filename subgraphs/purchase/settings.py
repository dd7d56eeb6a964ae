"""Purchase subgraph settings, from PURCHASE_* environment variables."""

from datetime import timedelta

from pydantic_settings import SettingsConfigDict

from subgraphs._common.settings import SubgraphSettings
from subgraphs.purchase.throttle import Policy


class Settings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="PURCHASE_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite:///var/purchase.db"
    # login_max_failures failed logins of one login name within login_window_seconds block that name for
    # login_block_seconds (RATE_LIMITED, with retryAfterSeconds).
    login_max_failures: int = 5
    login_window_seconds: float = 900.0
    login_block_seconds: float = 900.0

    @property
    def login_policy(self) -> Policy:
        """The rule that slows password guessing down."""
        return Policy(
            max_failures=self.login_max_failures,
            window=timedelta(seconds=self.login_window_seconds),
            block=timedelta(seconds=self.login_block_seconds),
        )
