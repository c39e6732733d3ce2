"""SQLite with its writers queued on a lock file beside the database.

Every transaction here is ``BEGIN IMMEDIATE`` (settings: it stops two readers deadlocking
when both upgrade to writers), so two web workers saving spans at once meet at ``BEGIN``.
SQLite's busy handler then sleeps the loser 1, 2, 5, 10, 15, 20, 25… ms between tries, while a
span save holds the lock for well under a millisecond: with eight annotators on two workers the
lock sat idle while waiters slept. Here a writer first takes an exclusive ``flock`` on
``<database>.write-lock``, retrying from 50 µs up to 1 ms apart, and only then sends ``BEGIN
IMMEDIATE``, which then finds the database free. Threads of one process (gthread workers,
``runserver``) queue on a plain lock before that, so only one of them polls the file (sixteen
polling threads cost more CPU than the waits they saved), and a process needs one open file.
The kernel drops a ``flock`` when its process dies, so a killed worker never leaves the lock
held; a writer that waits longer than the database's ``timeout`` option gets SQLite's own
"database is locked" error, as before.

Only explicit transactions (``atomic``) take the lock file; a lone statement in autocommit
mode still waits in SQLite's busy handler, which is correct, only slower. A process that does
not use this backend (``sqlite3`` on the command line, an older release) is still kept out
by SQLite's own lock. In-memory databases have one connection and skip the lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base, creation

FIRST_RETRY_S = 0.00005
LONGEST_RETRY_S = 0.001


class _Writer:
    """The right to write one database file, for one process: its threads queue on
    ``threads``; the one holding it then takes the file lock."""

    def __init__(self, database: str) -> None:
        self.threads = threading.Lock()
        self.pid = os.getpid()
        self.fd = os.open(f"{database}.write-lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC)

    def acquire(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        if not self.threads.acquire(timeout=timeout):
            return False
        wait = FIRST_RETRY_S
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self.threads.release()
                    return False
                time.sleep(wait)
                wait = min(wait * 2, LONGEST_RETRY_S)

    def release(self) -> None:
        if self.pid == os.getpid():  # not a parent's, inherited through fork()
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            self.threads.release()


_writers: dict[str, _Writer] = {}
_writers_guard = threading.Lock()


def _writer(database: str) -> _Writer:
    with _writers_guard:
        found = _writers.get(database)
        if found is None:
            found = _writers[database] = _Writer(database)
        return found


def _forget_writer(database: str) -> None:
    with _writers_guard:
        found = _writers.pop(database, None)
    if found is not None and found.pid == os.getpid():
        os.close(found.fd)


def _forget_writers_in_child() -> None:
    """A forked child must not unlock its parent's lock (an inherited open file description is
    the same lock) nor wait on a thread lock held by a thread it does not have."""
    global _writers_guard
    for w in _writers.values():
        os.close(w.fd)
    _writers.clear()
    _writers_guard = threading.Lock()


os.register_at_fork(after_in_child=_forget_writers_in_child)


class DatabaseCreation(creation.DatabaseCreation):
    def _destroy_test_db(self, test_database_name: str, verbosity: int) -> None:
        """The lock file goes with the test database (one per test run would pile up), and so
        does this process's open file: a new database of that name needs a new lock file. So do
        the WAL files a connection still open at the end (a live server's thread) leaves."""
        super()._destroy_test_db(test_database_name, verbosity)
        if test_database_name and not self.is_in_memory_db(test_database_name):
            _forget_writer(str(test_database_name))
            for suffix in (".write-lock", "-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(f"{test_database_name}{suffix}")


class DatabaseWrapper(base.DatabaseWrapper):
    creation_class = DatabaseCreation
    _writing: _Writer | None = None

    def _take_write_lock(self) -> None:
        if self.is_in_memory_db():
            return
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        writer = _writer(str(self.settings_dict["NAME"]))
        if not writer.acquire(timeout):
            raise OperationalError(
                f"database is locked: another writer held it for over {timeout:g} s"
            )
        self._writing = writer

    def _drop_write_lock(self) -> None:
        writer, self._writing = self._writing, None
        if writer is not None:
            writer.release()

    def _start_transaction_under_autocommit(self) -> None:
        self._take_write_lock()
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._drop_write_lock()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()
        finally:
            self._drop_write_lock()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()
        finally:
            self._drop_write_lock()

    def _close(self) -> Any:
        try:
            return super()._close()
        finally:
            self._drop_write_lock()
