from __future__ import annotations

import json
from pathlib import Path

import pytest

from kiln.tracking.client import KilnClient

from .helpers import Invoke, one_error_line


@pytest.fixture
def run_id(client: KilnClient) -> str:
    return client.create_run(client.create_experiment("files")).info.run_id


@pytest.fixture
def report(tmp_path: Path) -> Path:
    path = tmp_path / "report.txt"
    path.write_text("accuracy 0.93\n")
    return path


def test_log_artifact_then_list(kiln: Invoke, run_id: str, report: Path) -> None:
    logged = kiln("artifacts", "log-artifact", "-l", str(report), "-r", run_id)
    listed = kiln("artifacts", "list", "--run-id", run_id)

    assert logged.exit_code == 0, logged.output
    assert logged.stdout == (
        f"Logged {str(report)!r} to run {run_id} under the artifact root.\n"
    )
    assert listed.stdout.splitlines() == ["PATH        SIZE", "report.txt  14 B"]


def test_log_artifact_under_a_folder_and_list_as_json(
    kiln: Invoke, run_id: str, report: Path
) -> None:
    logged = kiln(
        "artifacts", "log-artifact", "--local-file", str(report),
        "--run-id", run_id, "--artifact-path", "eval", "--output", "json",
    )  # fmt: skip
    root = kiln("artifacts", "list", "-r", run_id, "--output", "json")
    folder = kiln("artifacts", "list", "-r", run_id, "-a", "eval", "--output", "json")

    assert json.loads(logged.stdout) == {
        "run_id": run_id,
        "local_path": str(report),
        "artifact_path": "eval",
    }
    assert json.loads(root.stdout) == {
        "files": [{"path": "eval", "is_dir": True, "file_size": None}]
    }
    assert json.loads(folder.stdout) == {
        "files": [{"path": "eval/report.txt", "is_dir": False, "file_size": 14}]
    }


def test_list_marks_folders(kiln: Invoke, run_id: str, report: Path) -> None:
    kiln("artifacts", "log-artifact", "-l", str(report), "-r", run_id, "-a", "eval")

    result = kiln("artifacts", "list", "-r", run_id)

    assert result.stdout.splitlines() == ["PATH   SIZE", "eval/  dir"]


def test_log_artifacts_uploads_a_folder(
    kiln: Invoke, run_id: str, tmp_path: Path
) -> None:
    plots = tmp_path / "plots"
    (plots / "nested").mkdir(parents=True)
    (plots / "a.txt").write_text("a")
    (plots / "nested" / "b.txt").write_text("bb")

    logged = kiln(
        "artifacts", "log-artifacts", "-l", str(plots), "-r", run_id, "-a", "p"
    )
    listed = kiln("artifacts", "list", "-r", run_id, "-a", "p", "--output", "json")

    assert logged.exit_code == 0, logged.output
    assert "under 'p'" in logged.stdout
    assert {f["path"] for f in json.loads(listed.stdout)["files"]} == {
        "p/a.txt",
        "p/nested",
    }


def test_download_a_file_into_a_folder(
    kiln: Invoke, run_id: str, report: Path, tmp_path: Path
) -> None:
    kiln("artifacts", "log-artifact", "-l", str(report), "-r", run_id, "-a", "eval")
    destination = tmp_path / "out" / "deeper"

    result = kiln(
        "artifacts", "download", "-r", run_id, "-a", "eval/report.txt",
        "-d", str(destination),
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    local = Path(result.stdout.strip())
    assert local.read_text() == "accuracy 0.93\n"
    assert local.is_relative_to(destination)


def test_download_everything_as_json(
    kiln: Invoke, run_id: str, report: Path, tmp_path: Path
) -> None:
    kiln("artifacts", "log-artifact", "-l", str(report), "-r", run_id, "-a", "eval")

    result = kiln(
        "artifacts", "download", "-r", run_id, "-d", str(tmp_path / "all"),
        "--output", "json",
    )  # fmt: skip

    assert result.exit_code == 0, result.output
    local = Path(json.loads(result.stdout)["path"])
    assert (local / "eval" / "report.txt").read_text() == "accuracy 0.93\n"


def test_list_of_an_empty_run_says_so(kiln: Invoke, run_id: str) -> None:
    result = kiln("artifacts", "list", "-r", run_id)

    assert result.exit_code == 0
    assert result.stdout == "No artifacts found.\n"


def test_log_artifact_of_a_missing_file_is_a_usage_error(
    kiln: Invoke, run_id: str, tmp_path: Path
) -> None:
    result = kiln(
        "artifacts", "log-artifact", "-l", str(tmp_path / "nope"), "-r", run_id
    )

    assert result.exit_code == 2
    assert "does not exist" in one_error_line(result)


@pytest.mark.parametrize(
    "args",
    [
        ("list", "-r", "f" * 32),
        ("download", "-r", "f" * 32, "-a", "x.txt"),
    ],
)
def test_unknown_run_fails_in_one_line(kiln: Invoke, args: tuple[str, ...]) -> None:
    result = kiln("artifacts", *args)

    assert result.exit_code == 1
    assert "f" * 32 in one_error_line(result)


def test_path_escaping_the_run_is_refused(kiln: Invoke, run_id: str) -> None:
    result = kiln("artifacts", "list", "-r", run_id, "-a", "../../etc")

    assert result.exit_code == 1
    one_error_line(result)
