"""Database access: a transaction is one plain function run on a worker thread, on SQLite or PostgreSQL."""

import asyncio
import contextvars
import inspect
import select
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlmodel import Session

P = ParamSpec("P")
R = TypeVar("R")
T = TypeVar("T")
U = TypeVar("U")
AfterCommit = Callable[[], Awaitable[None] | None]

_WRITE = "service_tree_write"
_AFTER_COMMIT = "service_tree_after_commit"


def utcnow() -> datetime:
    """The current time in UTC, timezone-aware."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were stored as UTC."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def sync_url(url: str) -> str:
    """Map a plain database URL to the driver used here (postgresql -> psycopg 3; sqlite stays sqlite3)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def after_commit(session: Session, action: AfterCommit) -> None:
    """Run `action` on the event loop once the transaction of `session` has committed (never after a
    rollback); an awaitable it returns is awaited before the transaction's caller resumes."""
    session.info.setdefault(_AFTER_COMMIT, []).append(action)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's begin event, not the driver, decide when and how a transaction starts.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A writer takes the write lock up front: a deferred transaction that reads first and writes later
        # fails with SQLITE_BUSY instead of waiting when another writer got in between.
        immediate = connection.get_execution_options().get(_WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _configure_postgresql(engine: Engine) -> None:
    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
        # A pooled connection is idle: the server sends it nothing unless it ends it (a restart, the backend
        # terminated), so anything to read on its socket means it is gone. Asked of the kernel, not of the
        # server as pool_pre_ping does (a round trip per transaction). The pool replaces the connection.
        if dbapi_connection.closed or _readable(dbapi_connection.fileno()):
            raise DisconnectionError("the server ended this pooled connection")


def _readable(fd: int) -> bool:
    poller = select.poll()  # not select.select: it cannot watch a descriptor past 1023
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(0))


class Database:
    """One engine per subgraph process. Each transaction is a function `fn(session, ...)` that runs whole:
    writes on a worker thread (one hop per transaction, where an async driver pays one or more per
    statement), reads on PostgreSQL too, reads on SQLite inline.
    """

    def __init__(self, url: str, *, threads: int = 8) -> None:
        self.url = sync_url(url)
        self.engine = create_engine(
            self.url,
            pool_size=threads + 1,  # every reader thread and the writer hold one connection at most
            max_overflow=0,
        )
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        else:
            _configure_postgresql(self.engine)
        self._readers = ThreadPoolExecutor(threads, thread_name_prefix="db-read")
        # SQLite has one writer at a time: one writer thread is this process's queue of writers, in order,
        # instead of SQLite's busy handler, which polls with growing sleeps (other processes still meet it).
        self._writers = (
            ThreadPoolExecutor(1, thread_name_prefix="db-write") if self.is_sqlite else self._readers
        )
        self._write_engine = self.engine.execution_options(**{_WRITE: True})
        # Put into the `info` of every session this database opens (the event bus a change publishes to).
        self.session_info: dict[str, Any] = {}

    async def read(self, fn: Callable[Concatenate[Session, P], R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """`fn(session, ...)` in a read-only transaction."""
        if self.is_sqlite:
            # Inline: a WAL reader never waits for a writer, and the read costs less than a thread hop.
            return self._read_now(lambda session: fn(session, *args, **kwargs))
        return await self._run(self._readers, self._read_now, lambda session: fn(session, *args, **kwargs))

    async def write(
        self, fn: Callable[Concatenate[Session, P], R], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """`fn(session, ...)` in a write transaction: committed on success, rolled back on any exception.
        Actions registered with `after_commit` run (and are awaited) after the commit."""
        result, actions = await self._run(
            self._writers, self._write_now, lambda session: fn(session, *args, **kwargs)
        )
        for action in actions:
            outcome = action()
            if inspect.isawaitable(outcome):
                await outcome
        return result

    def read_now(self, fn: Callable[[Session], R]) -> R:
        """`fn(session)` in a read-only transaction on the calling thread (scripts, not the event loop)."""
        return self._read_now(fn)

    def write_now(self, fn: Callable[[Session], R]) -> R:
        """`fn(session)` in a write transaction on the calling thread (scripts, not the event loop)."""
        result, _ = self._write_now(fn)
        return result

    def _read_now(self, fn: Callable[[Session], R]) -> R:
        info = dict(self.session_info)
        with Session(self.engine, expire_on_commit=False, info=info) as session, session.begin():
            return fn(session)

    def _write_now(self, fn: Callable[[Session], R]) -> tuple[R, list[AfterCommit]]:
        with Session(self._write_engine, expire_on_commit=False, info=dict(self.session_info)) as session:
            with session.begin():
                result = fn(session)
            return result, session.info.pop(_AFTER_COMMIT, [])

    @staticmethod
    async def _run(
        pool: ThreadPoolExecutor, run: Callable[[Callable[[Session], T]], U], call: Callable[[Session], T]
    ) -> U:
        # The worker sees the caller's context variables (request id, trace) as if it ran inline.
        context = contextvars.copy_context()
        return await asyncio.get_running_loop().run_in_executor(pool, context.run, run, call)

    async def dispose(self) -> None:
        """Stop the worker threads and close every pooled connection."""
        self._readers.shutdown(wait=True)
        self._writers.shutdown(wait=True)
        self.engine.dispose()
