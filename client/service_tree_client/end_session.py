from pydantic import Field

from .base_model import BaseModel


class EndSession(BaseModel):
    end_session: bool = Field(alias="endSession")
