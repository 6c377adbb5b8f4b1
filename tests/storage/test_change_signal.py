"""The keys-changed counter file (storage/change_signal.py): seen across processes at once,
no bump lost between concurrent processes, bumped only by committed key changes, and
absent where it cannot exist."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dropscope.services.database import Database
from dropscope.storage.change_signal import ChangeSignal, signal_beside

BUMP = (
    "import sys; from pathlib import Path; from dropscope.storage.change_signal import "
    "ChangeSignal; s = ChangeSignal(Path(sys.argv[1]))\nfor _ in range(int(sys.argv[2])): s.bump()"
)


def test_a_bump_in_another_process_is_read_here_at_once(tmp_path: Path) -> None:
    signal = ChangeSignal(tmp_path / "db.sqlite-keys")
    try:
        assert signal.read() == 0
        subprocess.run([sys.executable, "-c", BUMP, str(signal.path), "1"], check=True)
        assert signal.read() == 1
        signal.bump()
        assert ChangeSignal(signal.path).read() == 2
    finally:
        signal.close()


def test_concurrent_bumps_from_several_processes_all_count(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite-keys"
    runs = [subprocess.Popen([sys.executable, "-c", BUMP, str(path), "300"]) for _ in range(4)]
    assert [run.wait(timeout=60) for run in runs] == [0, 0, 0, 0]
    signal = ChangeSignal(path)
    assert signal.read() == 1200
    signal.close()
    assert signal.read() == 1200  # reopened on use after close


def test_there_is_no_signal_without_a_file_to_put_it_in(tmp_path: Path) -> None:
    assert signal_beside(None) is None
    assert signal_beside(":memory:") is None
    (tmp_path / "not-a-folder").write_text("x")
    assert signal_beside(str(tmp_path / "not-a-folder" / "db.sqlite")) is None
    made = signal_beside(str(tmp_path / "db.sqlite"))
    assert made is not None
    assert made.path == tmp_path.resolve() / "db.sqlite-keys"
    made.close()


def test_only_a_committed_key_change_bumps_the_signal(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'db.sqlite'}")
    db.ensure_schema()
    signal = db.keys_signal
    assert signal is not None
    try:
        before = signal.read()
        with db.unit_of_work() as uow:
            uow.meta.bump_data_version()  # research data: not a key change
        assert signal.read() == before

        def failing_change() -> None:
            with db.unit_of_work() as uow:
                uow.meta.bump_keys_version()
                raise RuntimeError("rolled back")

        with pytest.raises(RuntimeError):
            failing_change()
        assert signal.read() == before
        with db.unit_of_work() as uow:
            uow.meta.bump_keys_version()
        assert signal.read() == before + 1
    finally:
        db.close()


def test_postgresql_and_memory_databases_have_no_signal() -> None:
    assert Database("sqlite://").keys_signal is None
    assert Database("postgresql+psycopg://nobody@127.0.0.1:1/none").keys_signal is None
