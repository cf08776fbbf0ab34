"""``kiln artifacts``: list, download and log a run's files."""

from __future__ import annotations

from pathlib import Path

import click

from kiln.cli.options import output_option
from kiln.cli.output import echo_json, echo_table, file_to_dict, format_size
from kiln.cli.state import CliState

run_id_option = click.option(
    "-r", "--run-id", required=True, metavar="RUN_ID", help="Id of the run."
)


@click.group()
def artifacts() -> None:
    """List, download and log a run's artifacts.

    \b
    Example:
        kiln artifacts list -r 5c7a0e1f9d2b4c5e8f1a2b3c4d5e6f70
    """


@artifacts.command("list")
@run_id_option
@click.option(
    "-a",
    "--artifact-path",
    metavar="PATH",
    help="Folder under the run's artifact root; the root itself by default.",
)
@output_option
@click.pass_obj
def list_artifacts(
    state: CliState, run_id: str, artifact_path: str | None, output: str
) -> None:
    """List a run's artifacts.

    Shows the files and folders directly under the given folder.

    \b
    Example:
        kiln artifacts list -r 5c7a0e1f9d2b4c5e8f1a2b3c4d5e6f70 -a model
    """
    files = state.client().list_artifacts(run_id, path=artifact_path)
    if output == "json":
        echo_json({"files": [file_to_dict(f) for f in files]})
        return
    rows = [
        (
            f.path + "/" if f.is_dir else f.path,
            "dir" if f.is_dir else format_size(f.file_size),
        )
        for f in files
    ]
    echo_table(["PATH", "SIZE"], rows, empty="No artifacts found.")


@artifacts.command()
@run_id_option
@click.option(
    "-a",
    "--artifact-path",
    default="",
    metavar="PATH",
    help="File or folder to download; everything by default.",
)
@click.option(
    "-d",
    "--dst-path",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Local folder to download into; a new temporary folder by default.",
)
@output_option
@click.pass_obj
def download(
    state: CliState,
    run_id: str,
    artifact_path: str,
    dst_path: Path | None,
    output: str,
) -> None:
    """Download a run's artifacts.

    Prints the local path of what was downloaded.

    \b
    Example:
        kiln artifacts download -r 5c7a0e1f9d2b4c5e8f1a2b3c4d5e6f70 -a model -d ./out
    """
    if dst_path is not None:
        dst_path.mkdir(parents=True, exist_ok=True)
    local = state.client().download_artifacts(
        run_id, artifact_path, dst_path=str(dst_path) if dst_path else None
    )
    if output == "json":
        echo_json({"path": local})
    else:
        click.echo(local)


@artifacts.command("log-artifact")
@click.option(
    "-l",
    "--local-file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Local file to upload.",
)
@run_id_option
@click.option(
    "-a",
    "--artifact-path",
    metavar="PATH",
    help="Folder under the run's artifact root to put it in; the root by default.",
)
@output_option
@click.pass_obj
def log_artifact(
    state: CliState,
    local_file: Path,
    run_id: str,
    artifact_path: str | None,
    output: str,
) -> None:
    """Log a local file to a run.

    \b
    Example:
        kiln artifacts log-artifact -l report.html -r 5c7a0e1f9d2b4c5e8f1a2b3c4d5e6f70
    """
    state.client().log_artifact(run_id, str(local_file), artifact_path=artifact_path)
    _echo_logged(run_id, local_file, artifact_path, output)


@artifacts.command("log-artifacts")
@click.option(
    "-l",
    "--local-dir",
    required=True,
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    metavar="DIR",
    help="Local folder whose contents to upload.",
)
@run_id_option
@click.option(
    "-a",
    "--artifact-path",
    metavar="PATH",
    help="Folder under the run's artifact root to put them in; the root by default.",
)
@output_option
@click.pass_obj
def log_artifacts(
    state: CliState,
    local_dir: Path,
    run_id: str,
    artifact_path: str | None,
    output: str,
) -> None:
    """Log a local folder's files to a run.

    \b
    Example:
        kiln artifacts log-artifacts -l ./plots -r 5c7a0e1f9d2b4c5e8f1a2b3c4d5e6f70
    """
    state.client().log_artifacts(run_id, str(local_dir), artifact_path=artifact_path)
    _echo_logged(run_id, local_dir, artifact_path, output)


def _echo_logged(
    run_id: str, local: Path, artifact_path: str | None, output: str
) -> None:
    if output == "json":
        echo_json(
            {"run_id": run_id, "local_path": str(local), "artifact_path": artifact_path}
        )
    else:
        where = f"{artifact_path!r}" if artifact_path else "the artifact root"
        click.echo(f"Logged {str(local)!r} to run {run_id} under {where}.")
