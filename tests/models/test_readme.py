"""The README's Models examples run as written on the embedded models: the Python blocks (and the
values their comments show, ``expr  # 'text'`` or ``expr  # 4``) and the command lines."""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coachgraph.cli.main import app

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"


def section_blocks(heading: str, language: str) -> list[str]:
    """The ```language blocks of the README section under `heading`, up to the next ``## `` heading."""
    text = README.read_text()
    start = text.index(f"\n{heading}\n")
    end = text.find("\n## ", start + 1)
    return re.findall(rf"```{language}\n(.*?)```", text[start:end if end > 0 else None], flags=re.DOTALL)


def shown_values(block: str) -> list[tuple[str, object]]:
    """``(expression, value)`` for each line whose comment is a Python literal.

    >>> shown_values("x.y()   # '5'\\nlen(z)  # 4\\nf()  # a note")
    [('x.y()', '5'), ('len(z)', 4)]
    """
    pairs = []
    for line in block.splitlines():
        code, _, comment = line.partition("  # ")
        try:
            pairs.append((code.strip(), ast.literal_eval(comment.strip())))
        except (ValueError, SyntaxError):
            continue
    return pairs


def commands(block: str) -> list[list[str]]:
    """The arguments of each ``coachgraph ...`` line of a shell block, comments dropped.

    >>> commands('coachgraph generate "Hi"   # note\\nmake bench')
    [['generate', 'Hi']]
    """
    lines = (shlex.split(line, comments=True) for line in block.splitlines())
    return [words[1:] for words in lines if words and words[0] == "coachgraph"]


def test_models_section_has_examples():
    blocks = section_blocks("## Models", "python")
    assert blocks and any("load_chat_model" in b for b in blocks)
    assert shown_values("\n".join(blocks))
    assert any(commands(b) for b in section_blocks("## Models", "bash"))


@pytest.mark.parametrize("index", range(len(section_blocks("## Models", "python"))))
def test_models_examples_run_as_written(index):
    block = section_blocks("## Models", "python")[index]
    namespace: dict = {}
    exec(compile(ast.parse(block), f"README.md (Models, block {index})", "exec"), namespace)
    for expression, expected in shown_values(block):
        assert eval(expression, namespace) == expected, expression


@pytest.mark.parametrize("args", [a for b in section_blocks("## Models", "bash") for a in commands(b)],
                         ids=" ".join)
def test_models_commands_run_as_written(args):
    result = CliRunner().invoke(app, args, input="What is 2+3?\n\n")  # `chat` gets one turn
    assert result.exit_code == 0, result.output
    assert result.output.strip()
