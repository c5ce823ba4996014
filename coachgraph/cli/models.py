"""`coachgraph models list`, `coachgraph generate` and `coachgraph chat`."""

from __future__ import annotations

import typer
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from rich.table import Table

from coachgraph.cli._console import console, err_console, reports_errors, styled, working
from coachgraph.errors import InputError
from coachgraph.models import CHAT_MODELS, load_chat_model
from coachgraph.models.registry import parse_spec

__all__ = ["register"]

models_app = typer.Typer(help="The chat-model backends.", no_args_is_help=True)


@models_app.command("list")
def list_models() -> None:
    """List the registered model specs."""
    parse_spec("smollm2")  # registers the built-in backends
    table = Table("spec", "backend")
    for entry in CHAT_MODELS.values():
        table.add_row(entry.usage, entry.description)
    console.print(table)


@reports_errors
def generate(
    prompt: str = typer.Argument(..., help="The user message."),
    model: str = typer.Option("smollm2", "--model", "-m", help="Model spec (see `models list`)."),
    max_tokens: int = typer.Option(256, "--max-tokens", min=1, help="Most new tokens."),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0, help="0 is greedy."),
    top_p: float = typer.Option(1.0, "--top-p", min=0.0, max=1.0),
    system: str | None = typer.Option(None, "--system", help="Optional system message."),
) -> None:
    """Print the model's completion of PROMPT."""
    if not prompt.strip():
        raise InputError("the prompt is empty: give a non-blank PROMPT", source="PROMPT")
    with working(f"loading {model}"):
        chat_model = load_chat_model(model, temperature=temperature, top_p=top_p, max_tokens=max_tokens)
    messages: list[BaseMessage] = [SystemMessage(system)] if system else []
    messages.append(HumanMessage(prompt))
    console.print(chat_model.invoke(messages).text)


@reports_errors
def chat(
    model: str = typer.Option("smollm2", "--model", "-m", help="Model spec (see `models list`)."),
    max_tokens: int = typer.Option(256, "--max-tokens", min=1),
    temperature: float = typer.Option(0.0, "--temperature", min=0.0),
    system: str | None = typer.Option(None, "--system", help="Optional system message."),
) -> None:
    """Talk with a model in the terminal; answers stream as they are generated."""
    with working(f"loading {model}"):
        chat_model = load_chat_model(model, temperature=temperature, max_tokens=max_tokens)
    history: list[BaseMessage] = [SystemMessage(system)] if system else []
    err_console.print(styled((f"chatting with {model}; an empty line ends", "dim")))
    while True:
        try:
            line = console.input(styled(("you> ", "bold cyan")))
        except EOFError:
            break
        if not line.strip():
            break
        history.append(HumanMessage(line))
        console.print(styled(("model> ", "bold green")), end="")
        answer = ""
        for chunk in chat_model.stream(history):
            answer += chunk.text
            console.print(chunk.text, end="")
        console.print()
        history.append(AIMessage(answer))


def register(app: typer.Typer) -> None:
    """Add the model commands to the root app."""
    app.add_typer(models_app, name="models")
    app.command("generate")(generate)
    app.command("chat")(chat)
