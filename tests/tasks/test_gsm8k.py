"""GSM8K-style JSONL loading and its errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from coachgraph.errors import InputError
from coachgraph.tasks.gsm8k import load_gsm8k

GOOD = {"question": "Tom has 3 boxes of 4 eggs. How many eggs?",
        "answer": "3 boxes * 4 = <<3*4=12>>12 eggs\n#### 12"}


def _write(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "train.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_loads_steps_and_final(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(GOOD), "", json.dumps({**GOOD, "answer": "#### 1,000"})])
    tasks = load_gsm8k(path)
    assert [t.answer for t in tasks] == ["12", "1000"]
    assert tasks[0].steps == ["3 boxes * 4 = 12 eggs"]
    assert tasks[0].id == "train:1" and tasks[1].metadata["item_id"] == "train:3"


@pytest.mark.parametrize(("bad", "message"), [
    ("{not json", "train.jsonl:2"),
    (json.dumps({"question": "q"}), "'answer'"),
    (json.dumps({**GOOD, "answer": "twelve"}), "####"),
    (json.dumps({**GOOD, "answer": "#### many"}), "not a number"),
    (json.dumps([1, 2]), "JSON object"),
])
def test_errors_name_file_and_line(tmp_path: Path, bad: str, message: str) -> None:
    path = _write(tmp_path, [json.dumps(GOOD), bad])
    with pytest.raises(InputError, match="train.jsonl:2") as err:
        load_gsm8k(path)
    assert message in str(err.value)
