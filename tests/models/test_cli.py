"""CLI behaviour on bad input and on a tiny local checkpoint."""

from __future__ import annotations

import torch
from typer.testing import CliRunner

from coachgraph.cli.main import app
from coachgraph.models import load_chat_model

runner = CliRunner()


def test_models_list_names_every_backend():
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code == 0
    for spec in ("smollm2", "hf:<path>", "openai:<base_url>#<model>", "vllm:<model>"):
        assert spec in result.output


def test_generate_unknown_spec_exits_2_and_names_specs():
    result = runner.invoke(app, ["generate", "--model", "nope", "hi"])
    assert result.exit_code == 2
    assert "smollm2" in result.output


def test_generate_empty_prompt_is_rejected():
    result = runner.invoke(app, ["generate", "  "])
    assert result.exit_code == 2
    assert "prompt is empty" in result.output


def test_generate_and_chat_on_tiny_checkpoint(tiny_checkpoint):
    result = runner.invoke(app, ["generate", "--model", f"hf:{tiny_checkpoint}", "--max-tokens", "5", "one two"])
    assert result.exit_code == 0, result.output
    assert result.output.strip()
    chat = runner.invoke(app, ["chat", "--model", f"hf:{tiny_checkpoint}", "--max-tokens", "4"],
                         input="one two\nthree\n\n")
    assert chat.exit_code == 0, chat.output
    assert chat.output.count("model>") == 2


def test_threads_come_from_the_environment_for_the_command_only(tiny_checkpoint, monkeypatch):
    before = torch.get_num_threads()
    try:
        loaded = load_chat_model(f"hf:{tiny_checkpoint}", max_tokens=2)
        assert loaded.invoke("one two").content is not None
        assert torch.get_num_threads() == before  # loading and generating leave the count alone
        monkeypatch.setenv("COACHGRAPH_THREADS", "1")
        result = runner.invoke(app, ["generate", "--model", f"hf:{tiny_checkpoint}", "--max-tokens", "2", "one"])
        assert result.exit_code == 0, result.output
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_a_bad_thread_count_is_one_line_naming_the_variable(monkeypatch):
    monkeypatch.setenv("COACHGRAPH_THREADS", "-2")
    result = runner.invoke(app, ["models", "list"])
    assert result.exit_code != 0
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "COACHGRAPH_THREADS" in lines[0] and "'-2'" in lines[0]
