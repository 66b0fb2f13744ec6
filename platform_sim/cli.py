"""The ``platform-sim`` command line."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from platform_sim.config import SpecError, load_spec, parse_overrides

app = typer.Typer(
    help="Simulate how a conversational AI platform homogenizes how people solve problems.",
    no_args_is_help=True,
    add_completion=False,
)
err = Console(stderr=True)
console = Console()

SetOption = Annotated[
    list[str] | None,
    typer.Option("--set", help="override a spec key: --set n_users=500 (repeatable)"),
]


@app.callback()
def _main() -> None:
    """Simulate how a conversational AI platform homogenizes how people solve problems."""


def _fail(message: str, code: int = 2) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False)
    raise typer.Exit(code)


@app.command()
def run(
    spec: Annotated[Path, typer.Argument(help="run spec (TOML), e.g. experiments/tale.toml")],
    set_: SetOption = None,
    out: Annotated[Path | None, typer.Option(help="run directory, default runs/NAME-TIME")] = None,
) -> None:
    """Run one world (and its control) and write its run directory."""
    from platform_sim.runner import RunError
    from platform_sim.runner import run as run_spec

    try:
        world_spec = load_spec(spec, parse_overrides(set_ or []))
    except SpecError as e:
        _fail(str(e))
    out = out or Path("runs") / f"{world_spec.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    n_worlds = 2 if world_spec.control else 1
    columns = (
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TextColumn("machine share {task.fields[share]}"), TimeElapsedColumn(),
    )  # fmt: skip
    with Progress(*columns, console=err) as progress:
        task = progress.add_task("simulating", total=world_spec.steps * n_worlds, share="-")

        def on_step(world) -> None:
            share = world.measures["machine_share"]
            label = f"{world.spec.policy} step {world.steps}"
            progress.update(task, advance=1, description=label, share=f"{share:.0%}")

        try:
            run_spec(world_spec, out, on_step=on_step)
        except RunError as e:
            _fail(str(e))
    console.print(f"run written to [bold]{out}[/]")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
