"""The README's Models examples run as written on the embedded models, and the values their
comments show (``expr  # 'text'``) are what they return."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def section_blocks(heading: str) -> list[str]:
    """The ```python blocks of the README section under `heading`, up to the next ``## `` heading."""
    text = README.read_text()
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(r"```python\n(.*?)```", text[start:end if end > 0 else None], flags=re.DOTALL)


def shown_values(block: str) -> list[tuple[str, str]]:
    """``(expression, expected repr)`` for each line whose comment is a literal string."""
    pairs = []
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        if re.fullmatch(r"\s*'[^']*'\s*", comment):
            pairs.append((code.strip(), comment.strip()))
    return pairs


def test_models_section_has_examples():
    blocks = section_blocks("## Models")
    assert blocks and any("load_chat_model" in b for b in blocks)
    assert shown_values("\n".join(blocks))


@pytest.mark.parametrize("index", range(len(section_blocks("## Models"))))
def test_models_examples_run_as_written(index):
    block = section_blocks("## Models")[index]
    namespace: dict = {}
    exec(compile(ast.parse(block), f"README.md (Models, block {index})", "exec"), namespace)
    for expression, expected in shown_values(block):
        assert repr(eval(expression, namespace)) == expected, expression
