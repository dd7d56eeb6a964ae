from pydantic import Field

from .base_model import BaseModel


class CreateCategory(BaseModel):
    create_category: "CreateCategoryCreateCategory" = Field(alias="createCategory")


class CreateCategoryCreateCategory(BaseModel):
    id: str
    name: str


CreateCategory.model_rebuild()
