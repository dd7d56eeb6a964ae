from pydantic import Field

from .base_model import BaseModel


class SetUserDisabled(BaseModel):
    set_user_disabled: "SetUserDisabledSetUserDisabled" = Field(alias="setUserDisabled")


class SetUserDisabledSetUserDisabled(BaseModel):
    id: str
    disabled: bool


SetUserDisabled.model_rebuild()
