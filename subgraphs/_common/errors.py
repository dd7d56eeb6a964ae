"""Errors a client may see, each with a stable `extensions.code`, and masking of everything else."""

import logging
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import MaskErrors

logger = logging.getLogger(__name__)


class AppError(Exception):
    """An expected failure whose message and extensions are safe to show to the client."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions: dict[str, Any] = {"code": self.code, **extensions}


class Unauthenticated(AppError):
    code = "UNAUTHENTICATED"


class Forbidden(AppError):
    code = "FORBIDDEN"


class NotFound(AppError):
    code = "NOT_FOUND"


class BadUserInput(AppError):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message, field=field)


class Conflict(AppError):
    code = "CONFLICT"


class InsufficientStock(AppError):
    code = "INSUFFICIENT_STOCK"

    def __init__(self, *, product_id: int, available: int) -> None:
        super().__init__(
            f"Not enough stock for product {product_id}: {available} available",
            productId=str(product_id),
            available=available,
        )


class RateLimited(AppError):
    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, retryAfterSeconds=retry_after_seconds)


class ServiceUnavailable(AppError):
    code = "SERVICE_UNAVAILABLE"


def fallback_code(message: str) -> str:
    """The code of an error that reached the answer without one: the query could not be parsed, or not
    validated."""
    return "GRAPHQL_PARSE_FAILED" if message.startswith("Syntax Error") else "GRAPHQL_VALIDATION_FAILED"


def _is_client_error(error: GraphQLError) -> bool:
    # Errors without an original exception come from parsing and validation: they describe the query itself.
    return error.original_error is None or isinstance(error.original_error, AppError)


class ErrorCodes(MaskErrors):
    """Gives every error an `extensions.code` and hides unexpected ones (no stack traces, SQL or paths)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda e: not _is_client_error(e), error_message="Internal error")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        logger.error("unexpected error at %s", error.path, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked

    def _process_result(self, result: object) -> None:
        # MaskErrors asks isinstance() of a runtime-checkable Protocol here, which inspects the protocol's
        # members on every call: some 3% of the shop's CPU in a fan-out (each event, each subscriber). The
        # same test, cheaply.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)  # type: ignore[attr-defined]

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        processed = super()._process_errors(errors)
        for error in processed:
            original = error.original_error
            if isinstance(original, AppError):
                error.extensions = {**(error.extensions or {}), **original.extensions}
            elif not (error.extensions or {}).get("code"):
                error.extensions = {**(error.extensions or {}), "code": "GRAPHQL_VALIDATION_FAILED"}
        return processed
