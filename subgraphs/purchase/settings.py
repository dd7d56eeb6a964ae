"""Purchase subgraph settings, from PURCHASE_* environment variables."""

from pydantic_settings import SettingsConfigDict

from subgraphs._common.settings import SubgraphSettings


class Settings(SubgraphSettings):
    model_config = SettingsConfigDict(env_prefix="PURCHASE_", extra="ignore", populate_by_name=True)

    database_url: str = "sqlite:///var/purchase.db"
