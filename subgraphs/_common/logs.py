"""Logging of a subgraph process: one setup for the application's loggers and uvicorn's, each line with the
request id it was written under; JSON lines when LOG_FORMAT=json, readable lines otherwise."""

import logging
import os

from pythonjsonlogger.json import JsonFormatter

from subgraphs._common import request_id

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
JSON_FIELDS = "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s"
_NOISY = ("httpx", "httpcore", "apscheduler")


class RequestIdFilter(logging.Filter):
    """Stamps each record with the current request id ("-" outside any request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.current() or "-"
        return True


def formatter(log_format: str) -> logging.Formatter:
    """JSON lines for "json" (one object per record, for log shippers), readable lines for anything else."""
    if log_format == "json":
        return JsonFormatter(JSON_FIELDS, rename_fields={"asctime": "time", "levelname": "level"})
    return logging.Formatter(TEXT_FORMAT)


def configure(level: int = logging.INFO, log_format: str | None = None) -> None:
    """Route every record (the application's and uvicorn's) through one handler on standard error.

    uvicorn configures only its own loggers, each with its own handler; without this the subgraphs' warnings
    and the scheduler's lead changes would be dropped, and uvicorn's access lines would lack the request id.
    """
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format or os.environ.get("LOG_FORMAT", "text")))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    for noisy in _NOISY:
        logging.getLogger(noisy).setLevel(logging.WARNING)
