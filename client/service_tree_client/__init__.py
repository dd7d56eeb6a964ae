from .add_product import (
    AddProduct,
    AddProductAddProduct,
    AddProductAddProductCategory,
    AddProductAddProductShop,
)
from .async_base_client import AsyncBaseClient
from .base_model import BaseModel, Upload
from .buy import Buy, BuyBuy, BuyBuyLines, BuyBuyLinesProduct, BuyBuyShop
from .change_password import (
    ChangePassword,
    ChangePasswordChangePassword,
    ChangePasswordChangePasswordUser,
)
from .client import Client
from .craft_run_changed import (
    CraftRunChanged,
    CraftRunChangedCraftRunChanged,
    CraftRunChangedCraftRunChangedCraft,
    CraftRunChangedCraftRunChangedCraftProduct,
)
from .craft_runs import CraftRuns, CraftRunsCraft, CraftRunsCraftRuns
from .create_category import CreateCategory, CreateCategoryCreateCategory
from .create_craft import (
    CreateCraft,
    CreateCraftCreateCraft,
    CreateCraftCreateCraftFactory,
    CreateCraftCreateCraftProduct,
)
from .create_factory import CreateFactory, CreateFactoryCreateFactory
from .create_shop import CreateShop, CreateShopCreateShop
from .deliver import Deliver, DeliverDeliver
from .end_session import EndSession
from .enums import CraftRunStatus, Payment, Role
from .exceptions import (
    GraphQLClientError,
    GraphQLClientGraphQLError,
    GraphQLClientGraphQLMultiError,
    GraphQLClientHttpError,
    GraphQLClientInvalidResponseError,
)
from .factory_runs import (
    FactoryRuns,
    FactoryRunsFactory,
    FactoryRunsFactoryCrafts,
    FactoryRunsFactoryCraftsRuns,
)
from .fragments import SessionPair
from .input_types import (
    AddProductInput,
    BuyInput,
    BuyItem,
    CreateCraftInput,
    CreateShopInput,
    DeliverInput,
    RegisterInput,
)
from .login import Login, LoginLogin, LoginLoginUser
from .logout import Logout
from .logout_everywhere import LogoutEverywhere
from .my_purchase_count import (
    MyPurchaseCount,
    MyPurchaseCountMe,
    MyPurchaseCountMePurchases,
)
from .my_purchases import (
    MyPurchases,
    MyPurchasesMe,
    MyPurchasesMePurchases,
    MyPurchasesMePurchasesNodes,
    MyPurchasesMePurchasesNodesCheck,
    MyPurchasesMePurchasesNodesCheckLines,
    MyPurchasesMePurchasesNodesCheckLinesProduct,
    MyPurchasesMePurchasesNodesCheckLinesProductCategory,
    MyPurchasesMePurchasesNodesCheckShop,
    MyPurchasesMePurchasesNodesUserCategory,
)
from .my_sessions import MySessions, MySessionsMe, MySessionsMeSessions
from .pause_craft import PauseCraft, PauseCraftPauseCraft
from .product_stock import ProductStock, ProductStockProduct
from .purchase_recorded import (
    PurchaseRecorded,
    PurchaseRecordedPurchaseRecorded,
    PurchaseRecordedPurchaseRecordedCheck,
    PurchaseRecordedPurchaseRecordedCheckLines,
    PurchaseRecordedPurchaseRecordedCheckLinesProduct,
    PurchaseRecordedPurchaseRecordedCheckShop,
)
from .quick_buy import QuickBuy, QuickBuyBuy
from .refresh_session import (
    RefreshSession,
    RefreshSessionRefreshSession,
    RefreshSessionRefreshSessionUser,
)
from .register import Register, RegisterRegistered, RegisterRegisteredUser
from .resume_craft import ResumeCraft, ResumeCraftResumeCraft
from .set_user_disabled import SetUserDisabled, SetUserDisabledSetUserDisabled
from .shop_check_count import (
    ShopCheckCount,
    ShopCheckCountShop,
    ShopCheckCountShopChecks,
)
from .stock_changed import StockChanged, StockChangedStockChanged
from .user_purchase_count import (
    UserPurchaseCount,
    UserPurchaseCountUser,
    UserPurchaseCountUserPurchases,
)

__all__ = [
    "AddProduct",
    "AddProductAddProduct",
    "AddProductAddProductCategory",
    "AddProductAddProductShop",
    "AddProductInput",
    "AsyncBaseClient",
    "BaseModel",
    "Buy",
    "BuyBuy",
    "BuyBuyLines",
    "BuyBuyLinesProduct",
    "BuyBuyShop",
    "BuyInput",
    "BuyItem",
    "ChangePassword",
    "ChangePasswordChangePassword",
    "ChangePasswordChangePasswordUser",
    "Client",
    "CraftRunChanged",
    "CraftRunChangedCraftRunChanged",
    "CraftRunChangedCraftRunChangedCraft",
    "CraftRunChangedCraftRunChangedCraftProduct",
    "CraftRunStatus",
    "CraftRuns",
    "CraftRunsCraft",
    "CraftRunsCraftRuns",
    "CreateCategory",
    "CreateCategoryCreateCategory",
    "CreateCraft",
    "CreateCraftCreateCraft",
    "CreateCraftCreateCraftFactory",
    "CreateCraftCreateCraftProduct",
    "CreateCraftInput",
    "CreateFactory",
    "CreateFactoryCreateFactory",
    "CreateShop",
    "CreateShopCreateShop",
    "CreateShopInput",
    "Deliver",
    "DeliverDeliver",
    "DeliverInput",
    "EndSession",
    "FactoryRuns",
    "FactoryRunsFactory",
    "FactoryRunsFactoryCrafts",
    "FactoryRunsFactoryCraftsRuns",
    "GraphQLClientError",
    "GraphQLClientGraphQLError",
    "GraphQLClientGraphQLMultiError",
    "GraphQLClientHttpError",
    "GraphQLClientInvalidResponseError",
    "Login",
    "LoginLogin",
    "LoginLoginUser",
    "Logout",
    "LogoutEverywhere",
    "MyPurchaseCount",
    "MyPurchaseCountMe",
    "MyPurchaseCountMePurchases",
    "MyPurchases",
    "MyPurchasesMe",
    "MyPurchasesMePurchases",
    "MyPurchasesMePurchasesNodes",
    "MyPurchasesMePurchasesNodesCheck",
    "MyPurchasesMePurchasesNodesCheckLines",
    "MyPurchasesMePurchasesNodesCheckLinesProduct",
    "MyPurchasesMePurchasesNodesCheckLinesProductCategory",
    "MyPurchasesMePurchasesNodesCheckShop",
    "MyPurchasesMePurchasesNodesUserCategory",
    "MySessions",
    "MySessionsMe",
    "MySessionsMeSessions",
    "PauseCraft",
    "PauseCraftPauseCraft",
    "Payment",
    "ProductStock",
    "ProductStockProduct",
    "PurchaseRecorded",
    "PurchaseRecordedPurchaseRecorded",
    "PurchaseRecordedPurchaseRecordedCheck",
    "PurchaseRecordedPurchaseRecordedCheckLines",
    "PurchaseRecordedPurchaseRecordedCheckLinesProduct",
    "PurchaseRecordedPurchaseRecordedCheckShop",
    "QuickBuy",
    "QuickBuyBuy",
    "RefreshSession",
    "RefreshSessionRefreshSession",
    "RefreshSessionRefreshSessionUser",
    "Register",
    "RegisterInput",
    "RegisterRegistered",
    "RegisterRegisteredUser",
    "ResumeCraft",
    "ResumeCraftResumeCraft",
    "Role",
    "SessionPair",
    "SetUserDisabled",
    "SetUserDisabledSetUserDisabled",
    "ShopCheckCount",
    "ShopCheckCountShop",
    "ShopCheckCountShopChecks",
    "StockChanged",
    "StockChangedStockChanged",
    "Upload",
    "UserPurchaseCount",
    "UserPurchaseCountUser",
    "UserPurchaseCountUserPurchases",
]
