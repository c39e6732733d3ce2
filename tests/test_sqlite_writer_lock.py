"""SQLite's writers queue on ``<database>.write-lock`` (annotator/db/sqlite3): a transaction
waits for it, holds it only while open, gives a clear error past the timeout, and a killed
holder does not leave it held."""

from __future__ import annotations

import fcntl
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.db import OperationalError, connection, connections, transaction

pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="the lock file is SQLite's; PostgreSQL has row locks"
)


def lock_path() -> str:
    return f"{connection.settings_dict['NAME']}.write-lock"


def lock_is_free() -> bool:
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return True
    finally:
        os.close(fd)


@contextmanager
def lock_held_elsewhere() -> Iterator[None]:
    """As another worker process holds it: a separate open file description."""
    fd = os.open(lock_path(), os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def user_exists(name: str) -> bool:
    return get_user_model().objects.filter(username=name).exists()


def test_a_transaction_waits_for_the_lock_then_writes(transactional_db: Any) -> None:
    finished = threading.Event()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            with transaction.atomic():
                get_user_model().objects.create(username="waiting")
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)
        finally:
            connections.close_all()
            finished.set()

    with lock_held_elsewhere():
        thread = threading.Thread(target=write)
        thread.start()
        assert not finished.wait(0.4), "the transaction did not wait for the lock file"
        assert not user_exists("waiting")
    assert finished.wait(10)
    thread.join()
    assert errors == []
    assert user_exists("waiting")


def test_past_the_timeout_the_error_says_the_database_is_locked_and_nothing_is_written(
    transactional_db: Any, monkeypatch: Any
) -> None:
    monkeypatch.setitem(connection.settings_dict["OPTIONS"], "timeout", 0.3)
    with lock_held_elsewhere():
        started = time.monotonic()
        with (
            pytest.raises(OperationalError, match="database is locked"),
            transaction.atomic(),
        ):
            get_user_model().objects.create(username="late")
        assert time.monotonic() - started < 5
    assert not user_exists("late")
    with transaction.atomic():  # the failed wait left nothing held
        get_user_model().objects.create(username="next")
    assert user_exists("next")


def test_the_lock_is_held_only_while_a_transaction_is_open(transactional_db: Any) -> None:
    assert lock_is_free()
    with transaction.atomic():
        get_user_model().objects.create(username="committed")
        assert not lock_is_free()
    assert lock_is_free()

    with pytest.raises(ZeroDivisionError), transaction.atomic():
        get_user_model().objects.create(username="rolled-back")
        assert not lock_is_free()
        1 / 0  # noqa: B018
    assert lock_is_free()
    assert user_exists("committed") and not user_exists("rolled-back")

    with transaction.atomic():
        get_user_model().objects.create(username="closed")
        connection.close()  # a connection lost mid-transaction
    assert lock_is_free()


def test_a_killed_holder_does_not_leave_the_lock_held(transactional_db: Any) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            lock_path(),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not lock_is_free()
    finally:
        holder.kill()
        holder.wait()
    with transaction.atomic():
        get_user_model().objects.create(username="after-the-kill")
    assert user_exists("after-the-kill")


def test_eight_threads_writing_at_once_all_land(transactional_db: Any) -> None:
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            for i in range(15):
                with transaction.atomic():
                    get_user_model().objects.create(username=f"t{n}-{i}")
        except BaseException as exc:  # reported by the assert below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert get_user_model().objects.filter(username__startswith="t").count() == 8 * 15


def test_destroying_a_test_database_removes_its_lock_and_wal_files(db: Any, tmp_path: Any) -> None:
    from annotator.db.sqlite3.base import DatabaseWrapper

    name = str(tmp_path / "other.sqlite3")
    other = DatabaseWrapper({**connection.settings_dict, "NAME": name}, alias="lock-file-test")
    other.ensure_connection()
    other.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)
    other.cursor().execute("CREATE TABLE t (x INTEGER)")
    other.commit()
    other.set_autocommit(True)
    assert os.path.exists(f"{name}.write-lock")
    assert os.path.exists(f"{name}-wal")  # still open, as a live server's connection can be

    other.creation._destroy_test_db(name, verbosity=0)
    other.close()
    assert [p.name for p in tmp_path.iterdir()] == []
