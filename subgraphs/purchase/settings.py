"""Purchase subgraph settings, from PURCHASE_* environment variables."""

from datetime import timedelta
from pathlib import Path

from pydantic import model_validator
from pydantic_settings import SettingsConfigDict

from subgraphs._common.keys import KeyFolder
from subgraphs._common.settings import MissingSetting, SubgraphSettings
from subgraphs.purchase.throttle import Policy


class Settings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="PURCHASE_")  # merged with SubgraphSettings' config

    database_url: str = "sqlite:///var/purchase.db"
    # login_max_failures failed logins of one login name within login_window_seconds block that name for
    # login_block_seconds (RATE_LIMITED, with retryAfterSeconds); refresh_max_failures unknown refresh tokens
    # from one client address within the same window block that address as long.
    login_max_failures: int = 5
    login_window_seconds: float = 900.0
    login_block_seconds: float = 900.0
    refresh_max_failures: int = 20
    # The signing keys (only purchase has them: keys add|list|retire manages the folder) and the hashes of
    # the services' secrets.
    signing_keys_dir: str = "var/identity/signing-keys"
    service_credentials_file: str = "var/identity/service-credentials.json"
    # Lifetimes: an access token (user), a refresh token (renewed at each refresh), a service's token.
    access_token_ttl_seconds: int = 600
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    service_token_ttl_seconds: int = 300

    @model_validator(mode="after")
    def _identity_set_outside_development(self) -> "Settings":
        self.require_outside_development("signing_keys_dir", "service_credentials_file")
        return self

    def _policy(self, max_failures: int) -> Policy:
        window, block = (
            timedelta(seconds=self.login_window_seconds),
            timedelta(seconds=self.login_block_seconds),
        )
        return Policy(max_failures=max_failures, window=window, block=block)

    @property
    def login_policy(self) -> Policy:
        """The rule that slows password guessing down."""
        return self._policy(self.login_max_failures)

    @property
    def refresh_policy(self) -> Policy:
        """The rule that slows refresh-token guessing down, per client address."""
        return self._policy(self.refresh_max_failures)

    @property
    def token_life(self) -> timedelta:
        """The longest any token purchase signs may live: a key that stopped signing is retired after it."""
        return timedelta(seconds=max(self.access_token_ttl_seconds, self.service_token_ttl_seconds))

    def keys_folder(self) -> Path:
        """The signing-key folder, which must hold a signing key (a start-up error naming the setting)."""
        folder = Path(self.signing_keys_dir)
        if KeyFolder(folder).current().signing_kid is None:
            raise MissingSetting(
                f"PURCHASE_SIGNING_KEYS_DIR: no signing key in {folder} "
                "(make run creates one in development; python -m subgraphs.purchase.cli keys add makes one)"
            )
        return folder

    def credentials_file(self) -> Path:
        """The services' credential hashes, which must exist (a start-up error naming the setting)."""
        path = Path(self.service_credentials_file)
        if not path.is_file():
            raise MissingSetting(
                f"PURCHASE_SERVICE_CREDENTIALS_FILE: no service credentials at {path} "
                "(make run creates them in development)"
            )
        return path
