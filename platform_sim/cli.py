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
    err.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@app.command()
def run(
    spec: Annotated[
        Path | None, typer.Argument(help="run spec (TOML), e.g. experiments/tale.toml")
    ] = None,
    set_: SetOption = None,
    out: Annotated[Path | None, typer.Option(help="run directory, default runs/NAME-TIME")] = None,
    from_: Annotated[
        Path | None,
        typer.Option("--from", help="rerun a run directory exactly, from its spec.toml"),
    ] = None,
    report: Annotated[bool, typer.Option(help="write report.html into the run directory")] = True,
) -> None:
    """Run one world (and its control), write its run directory and its report."""
    from platform_sim.runner import RunError
    from platform_sim.runner import run as run_spec

    if (spec is None) == (from_ is None):
        _fail("give either a SPEC file or --from RUN_DIR (not both)")
    source = spec if spec is not None else Path(from_) / "spec.toml"
    try:
        world_spec = load_spec(source, parse_overrides(set_ or []))
    except SpecError as e:
        _fail(str(e))
    out = out or Path("runs") / f"{world_spec.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if out.exists():
        _fail(f"output directory {out} already exists; choose another --out")
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

        def write_report(directory: Path) -> None:
            from platform_sim.report import write_report as render

            progress.update(task, description="writing the report (maps, feature graph)")
            render(directory)

        try:
            run_spec(world_spec, out, on_step=on_step, after=write_report if report else None)
        except RunError as e:
            _fail(str(e))
    console.print(f"run written to [bold]{out}[/]")
    if report:
        console.print(f"report: [bold]{out / 'report.html'}[/]")


@app.command()
def report(
    directory: Annotated[Path, typer.Argument(help="a run directory or a sweep directory")],
    maps: Annotated[bool, typer.Option(help="include UMAP maps and the feature graph")] = True,
) -> None:
    """Write report.html (and figures/) for a run or a sweep."""
    from platform_sim.report import write_report

    if not directory.is_dir():
        _fail(f"not a directory: {directory}")
    if not ((directory / "metrics.parquet").is_file() or (directory / "results.parquet").is_file()):
        _fail(f"{directory} holds neither metrics.parquet (a run) nor results.parquet (a sweep)")
    with err.status("writing the report"):
        path = write_report(directory, maps=maps)
    console.print(f"report written to [bold]{path}[/]")


def _register_sweep() -> None:
    from platform_sim.sweep import sweep_command

    app.command("sweep")(sweep_command)


_register_sweep()


@app.command()
def ui(
    port: Annotated[int, typer.Option(help="port to serve the demo on (127.0.0.1)")] = 7860,
    share: Annotated[bool, typer.Option(help="also create a public share link")] = False,
) -> None:
    """Launch the demo app in the browser: simulate, map, feature graph, talk, compare."""
    try:
        from ui.app import ui_command
    except ImportError as e:
        _fail(f"the demo app cannot start: {e}")
    ui_command(port=port, share=share)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
