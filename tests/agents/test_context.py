"""Objects named by a spec are loaded once per process, even when threads ask for them at once."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from coachgraph.agents import context
from coachgraph.agents.context import shared_library


def test_threads_asking_at_once_share_one_library(tmp_path: Path) -> None:
    start = threading.Barrier(8)

    def ask(_: int) -> int:
        start.wait()
        return id(shared_library(str(tmp_path / "library")))

    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(ask, range(8)))
    assert len(ids) == 1


def test_a_slow_first_load_is_not_repeated_by_threads_that_ask_meanwhile(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    opened: list[Path] = []

    class SlowLibrary:
        def __init__(self, folder: Path, embeddings: object) -> None:
            opened.append(folder)
            time.sleep(0.2)

    monkeypatch.setattr(context, "SkillLibrary", SlowLibrary)
    folders = [str(tmp_path / "a")] * 4 + [str(tmp_path / "b")] * 4
    with ThreadPoolExecutor(8) as pool:
        libraries = list(pool.map(shared_library, folders))
    assert sorted(opened) == [tmp_path / "a", tmp_path / "b"]
    assert len({id(x) for x in libraries[:4]}) == len({id(x) for x in libraries[4:]}) == 1
