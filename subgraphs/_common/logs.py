"""Logging of a subgraph process: its own loggers write beside uvicorn's, one line per record."""

import logging

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: int = logging.INFO) -> None:
    """Send the application's log records to standard error, unless the process already configured logging.

    uvicorn configures only its own loggers; without this, the subgraphs' warnings and the scheduler's
    lead changes would be dropped.
    """
    root = logging.getLogger()
    if not root.handlers:
        logging.basicConfig(level=level, format=FORMAT)
    for noisy in ("httpx", "httpcore", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
