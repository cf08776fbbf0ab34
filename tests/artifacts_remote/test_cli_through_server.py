"""``kiln artifacts`` against a server that proxies artifacts."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from kiln.cli.main import cli
from kiln.tracking.client import KilnClient

from .conftest import LiveServer


def test_kiln_artifacts_logs_lists_and_downloads_through_the_proxy(
    live_server: LiveServer, tmp_path: Path
) -> None:
    client = KilnClient(live_server.url)
    run_id = client.create_run(client.create_experiment("cli")).info.run_id
    report = tmp_path / "report.txt"
    report.write_text("ok\n")
    runner = CliRunner()

    def kiln(*args: str) -> str:
        result = runner.invoke(cli, ["--tracking-uri", live_server.url, *args])
        assert result.exit_code == 0, result.output
        return result.stdout

    kiln("artifacts", "log-artifact", "-l", str(report), "-r", run_id, "-a", "docs")
    listed = kiln("artifacts", "list", "-r", run_id, "-a", "docs")
    kiln("artifacts", "download", "-r", run_id, "-a", "docs", "-d", str(tmp_path / "o"))

    assert "docs/report.txt" in listed
    assert (tmp_path / "o" / "docs" / "report.txt").read_text() == "ok\n"
