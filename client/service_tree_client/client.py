from collections.abc import AsyncIterator
from typing import Any, Optional, Union

from .add_product import AddProduct
from .async_base_client import AsyncBaseClient
from .base_model import UNSET, UnsetType
from .buy import Buy
from .change_password import ChangePassword
from .craft_run_changed import CraftRunChanged
from .craft_runs import CraftRuns
from .create_category import CreateCategory
from .create_craft import CreateCraft
from .create_factory import CreateFactory
from .create_shop import CreateShop
from .deliver import Deliver
from .end_session import EndSession
from .factory_runs import FactoryRuns
from .input_types import (
    AddProductInput,
    BuyInput,
    CreateCraftInput,
    CreateShopInput,
    DeliverInput,
    RegisterInput,
)
from .login import Login
from .logout import Logout
from .logout_everywhere import LogoutEverywhere
from .my_purchase_count import MyPurchaseCount
from .my_purchases import MyPurchases
from .my_sessions import MySessions
from .pause_craft import PauseCraft
from .product_stock import ProductStock
from .purchase_recorded import PurchaseRecorded
from .quick_buy import QuickBuy
from .refresh_session import RefreshSession
from .register import Register
from .resume_craft import ResumeCraft
from .set_user_disabled import SetUserDisabled
from .shop_check_count import ShopCheckCount
from .stock_changed import StockChanged
from .user_purchase_count import UserPurchaseCount


def gql(q: str) -> str:
    return q


class Client(AsyncBaseClient):
    async def register(self, input: RegisterInput, **kwargs: Any) -> Register:
        query = gql("""
            mutation Register($input: RegisterInput!) {
              registered: register(input: $input) {
                ...SessionPair
                user {
                  id
                  login
                  firstName
                  secondName
                  role
                }
              }
            }

            fragment SessionPair on AuthPayload {
              token
              expiresAt
              refreshToken
              refreshExpiresAt
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="Register", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Register.model_validate(data)

    async def login(self, login: str, password: str, **kwargs: Any) -> Login:
        query = gql("""
            mutation Login($login: String!, $password: String!) {
              login(login: $login, password: $password) {
                ...SessionPair
                user {
                  id
                  role
                }
              }
            }

            fragment SessionPair on AuthPayload {
              token
              expiresAt
              refreshToken
              refreshExpiresAt
            }
            """)
        variables: dict[str, object] = {"login": login, "password": password}
        response = await self.execute(
            query=query, operation_name="Login", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Login.model_validate(data)

    async def refresh_session(
        self, refresh_token: str, **kwargs: Any
    ) -> RefreshSession:
        query = gql("""
            mutation RefreshSession($refreshToken: String!) {
              refreshSession(refreshToken: $refreshToken) {
                ...SessionPair
                user {
                  id
                }
              }
            }

            fragment SessionPair on AuthPayload {
              token
              expiresAt
              refreshToken
              refreshExpiresAt
            }
            """)
        variables: dict[str, object] = {"refreshToken": refresh_token}
        response = await self.execute(
            query=query, operation_name="RefreshSession", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return RefreshSession.model_validate(data)

    async def logout(self, refresh_token: str, **kwargs: Any) -> Logout:
        query = gql("""
            mutation Logout($refreshToken: String!) {
              logout(refreshToken: $refreshToken)
            }
            """)
        variables: dict[str, object] = {"refreshToken": refresh_token}
        response = await self.execute(
            query=query, operation_name="Logout", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Logout.model_validate(data)

    async def logout_everywhere(self, **kwargs: Any) -> LogoutEverywhere:
        query = gql("""
            mutation LogoutEverywhere {
              logoutEverywhere
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query,
            operation_name="LogoutEverywhere",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return LogoutEverywhere.model_validate(data)

    async def change_password(
        self, current_password: str, new_password: str, **kwargs: Any
    ) -> ChangePassword:
        query = gql("""
            mutation ChangePassword($currentPassword: String!, $newPassword: String!) {
              changePassword(currentPassword: $currentPassword, newPassword: $newPassword) {
                ...SessionPair
                user {
                  id
                }
              }
            }

            fragment SessionPair on AuthPayload {
              token
              expiresAt
              refreshToken
              refreshExpiresAt
            }
            """)
        variables: dict[str, object] = {
            "currentPassword": current_password,
            "newPassword": new_password,
        }
        response = await self.execute(
            query=query, operation_name="ChangePassword", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ChangePassword.model_validate(data)

    async def my_sessions(self, **kwargs: Any) -> MySessions:
        query = gql("""
            query MySessions {
              me {
                id
                sessions {
                  id
                  createdAt
                  lastUsedAt
                  current
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="MySessions", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return MySessions.model_validate(data)

    async def end_session(self, id: str, **kwargs: Any) -> EndSession:
        query = gql("""
            mutation EndSession($id: ID!) {
              endSession(id: $id)
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="EndSession", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return EndSession.model_validate(data)

    async def set_user_disabled(
        self, user_id: str, disabled: bool, **kwargs: Any
    ) -> SetUserDisabled:
        query = gql("""
            mutation SetUserDisabled($userId: ID!, $disabled: Boolean!) {
              setUserDisabled(userId: $userId, disabled: $disabled) {
                id
                disabled
              }
            }
            """)
        variables: dict[str, object] = {"userId": user_id, "disabled": disabled}
        response = await self.execute(
            query=query, operation_name="SetUserDisabled", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return SetUserDisabled.model_validate(data)

    async def create_shop(self, input: CreateShopInput, **kwargs: Any) -> CreateShop:
        query = gql("""
            mutation CreateShop($input: CreateShopInput!) {
              createShop(input: $input) {
                id
                name
                address
                phone
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="CreateShop", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateShop.model_validate(data)

    async def create_category(
        self, shop_id: str, name: str, **kwargs: Any
    ) -> CreateCategory:
        query = gql("""
            mutation CreateCategory($shopId: ID!, $name: String!) {
              createCategory(shopId: $shopId, name: $name) {
                id
                name
              }
            }
            """)
        variables: dict[str, object] = {"shopId": shop_id, "name": name}
        response = await self.execute(
            query=query, operation_name="CreateCategory", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateCategory.model_validate(data)

    async def add_product(self, input: AddProductInput, **kwargs: Any) -> AddProduct:
        query = gql("""
            mutation AddProduct($input: AddProductInput!) {
              addProduct(input: $input) {
                id
                name
                price
                stock
                category {
                  id
                  name
                }
                shop {
                  id
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="AddProduct", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return AddProduct.model_validate(data)

    async def product_stock(self, id: str, **kwargs: Any) -> ProductStock:
        query = gql("""
            query ProductStock($id: ID!) {
              product(id: $id) {
                stock
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="ProductStock", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ProductStock.model_validate(data)

    async def shop_check_count(self, shop_id: str, **kwargs: Any) -> ShopCheckCount:
        query = gql("""
            query ShopCheckCount($shopId: ID!) {
              shop(id: $shopId) {
                checks(first: 1) {
                  totalCount
                }
              }
            }
            """)
        variables: dict[str, object] = {"shopId": shop_id}
        response = await self.execute(
            query=query, operation_name="ShopCheckCount", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ShopCheckCount.model_validate(data)

    async def deliver(self, input: DeliverInput, **kwargs: Any) -> Deliver:
        query = gql("""
            mutation Deliver($input: DeliverInput!) {
              deliver(input: $input) {
                key
                deliveredAt
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="Deliver", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Deliver.model_validate(data)

    async def create_factory(self, name: str, **kwargs: Any) -> CreateFactory:
        query = gql("""
            mutation CreateFactory($name: String!) {
              createFactory(name: $name) {
                id
                name
                createdAt
              }
            }
            """)
        variables: dict[str, object] = {"name": name}
        response = await self.execute(
            query=query, operation_name="CreateFactory", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateFactory.model_validate(data)

    async def create_craft(self, input: CreateCraftInput, **kwargs: Any) -> CreateCraft:
        query = gql("""
            mutation CreateCraft($input: CreateCraftInput!) {
              createCraft(input: $input) {
                id
                countPerRun
                intervalSeconds
                active
                nextRunAt
                factory {
                  id
                  name
                }
                product {
                  id
                  name
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="CreateCraft", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CreateCraft.model_validate(data)

    async def pause_craft(self, id: str, **kwargs: Any) -> PauseCraft:
        query = gql("""
            mutation PauseCraft($id: ID!) {
              pauseCraft(id: $id) {
                id
                active
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="PauseCraft", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return PauseCraft.model_validate(data)

    async def resume_craft(self, id: str, **kwargs: Any) -> ResumeCraft:
        query = gql("""
            mutation ResumeCraft($id: ID!) {
              resumeCraft(id: $id) {
                id
                active
                nextRunAt
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="ResumeCraft", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return ResumeCraft.model_validate(data)

    async def craft_runs(self, id: str, **kwargs: Any) -> CraftRuns:
        query = gql("""
            query CraftRuns($id: ID!) {
              craft(id: $id) {
                id
                active
                nextRunAt
                runs(last: 50) {
                  key
                  status
                  attempts
                  scheduledAt
                  finishedAt
                  error
                }
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="CraftRuns", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return CraftRuns.model_validate(data)

    async def factory_runs(self, id: str, **kwargs: Any) -> FactoryRuns:
        query = gql("""
            query FactoryRuns($id: ID!) {
              factory(id: $id) {
                crafts {
                  id
                  runs(last: 100) {
                    status
                    scheduledAt
                    finishedAt
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query, operation_name="FactoryRuns", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return FactoryRuns.model_validate(data)

    async def stock_changed(
        self, product_ids: list[str], **kwargs: Any
    ) -> AsyncIterator[StockChanged]:
        query = gql("""
            subscription StockChanged($productIds: [ID!]!) {
              stockChanged(productIds: $productIds) {
                id
                name
                stock
              }
            }
            """)
        variables: dict[str, object] = {"productIds": product_ids}
        async for data in self.execute_ws(
            query=query, operation_name="StockChanged", variables=variables, **kwargs
        ):
            yield StockChanged.model_validate(data)

    async def craft_run_changed(
        self, factory_id: Union[Optional[str], UnsetType] = UNSET, **kwargs: Any
    ) -> AsyncIterator[CraftRunChanged]:
        query = gql("""
            subscription CraftRunChanged($factoryId: ID) {
              craftRunChanged(factoryId: $factoryId) {
                id
                key
                status
                attempts
                error
                scheduledAt
                finishedAt
                craft {
                  id
                  product {
                    id
                    name
                    stock
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {"factoryId": factory_id}
        async for data in self.execute_ws(
            query=query, operation_name="CraftRunChanged", variables=variables, **kwargs
        ):
            yield CraftRunChanged.model_validate(data)

    async def purchase_recorded(self, **kwargs: Any) -> AsyncIterator[PurchaseRecorded]:
        query = gql("""
            subscription PurchaseRecorded {
              purchaseRecorded {
                id
                name
                total
                createdAt
                check {
                  id
                  number
                  shop {
                    name
                  }
                  lines {
                    quantity
                    product {
                      name
                    }
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        async for data in self.execute_ws(
            query=query,
            operation_name="PurchaseRecorded",
            variables=variables,
            **kwargs,
        ):
            yield PurchaseRecorded.model_validate(data)

    async def buy(self, input: BuyInput, **kwargs: Any) -> Buy:
        query = gql("""
            mutation Buy($input: BuyInput!) {
              buy(input: $input) {
                id
                number
                total
                payment
                createdAt
                shop {
                  id
                }
                lines {
                  quantity
                  unitPrice
                  total
                  product {
                    id
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="Buy", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return Buy.model_validate(data)

    async def my_purchases(self, first: int, **kwargs: Any) -> MyPurchases:
        query = gql("""
            query MyPurchases($first: Int! = 50) {
              me {
                login
                purchases(first: $first) {
                  totalCount
                  nodes {
                    name
                    payment
                    total
                    createdAt
                    userCategory {
                      name
                    }
                    check {
                      number
                      createdAt
                      shop {
                        name
                        address
                      }
                      lines {
                        quantity
                        unitPrice
                        product {
                          name
                          category {
                            name
                          }
                        }
                      }
                    }
                  }
                }
              }
            }
            """)
        variables: dict[str, object] = {"first": first}
        response = await self.execute(
            query=query, operation_name="MyPurchases", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return MyPurchases.model_validate(data)

    async def my_purchase_count(self, **kwargs: Any) -> MyPurchaseCount:
        query = gql("""
            query MyPurchaseCount {
              me {
                purchases(first: 1) {
                  totalCount
                }
              }
            }
            """)
        variables: dict[str, object] = {}
        response = await self.execute(
            query=query, operation_name="MyPurchaseCount", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return MyPurchaseCount.model_validate(data)

    async def user_purchase_count(self, id: str, **kwargs: Any) -> UserPurchaseCount:
        query = gql("""
            query UserPurchaseCount($id: ID!) {
              user(id: $id) {
                purchases(first: 1) {
                  totalCount
                }
              }
            }
            """)
        variables: dict[str, object] = {"id": id}
        response = await self.execute(
            query=query,
            operation_name="UserPurchaseCount",
            variables=variables,
            **kwargs,
        )
        data = self.get_data(response)
        return UserPurchaseCount.model_validate(data)

    async def quick_buy(self, input: BuyInput, **kwargs: Any) -> QuickBuy:
        query = gql("""
            mutation QuickBuy($input: BuyInput!) {
              buy(input: $input) {
                id
              }
            }
            """)
        variables: dict[str, object] = {"input": input}
        response = await self.execute(
            query=query, operation_name="QuickBuy", variables=variables, **kwargs
        )
        data = self.get_data(response)
        return QuickBuy.model_validate(data)
