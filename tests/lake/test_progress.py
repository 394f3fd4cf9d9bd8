"""Progress of long work on stderr: shown on a terminal (or when forced), silent otherwise."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from ops_warehouse import progress
from ops_warehouse.home import DataHome
from ops_warehouse.ingest import ingest_file
from ops_warehouse.lake.models import build_models

HEADER = "deploy_id,service,environment,sha,started_at,finished_at,status\n"


def _deploys(path: Path, n: int) -> Path:
    rows = "".join(
        f"d{i},checkout,production,sha{i},2026-11-{10 + i % 10:02d}T10:00:00Z,2026-11-{10 + i % 10:02d}T10:05:00Z,success\n"  # noqa: E501
        for i in range(n)
    )
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def _range_json(path: Path, series: int, points: int) -> Path:
    parts = []
    for s in range(series):
        values = ",".join(f'[{1_767_225_600 + 15 * i},"{i}"]' for i in range(points))
        parts.append(f'{{"metric":{{"__name__":"up","instance":"h{s}"}},"values":[{values}]}}')
    path.write_text('{"status":"success","data":{"resultType":"matrix","result":[' + ",".join(parts) + "]}}")
    return path


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_drawn_on_a_terminal_and_silent_in_a_pipe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(progress.ENV_VAR, raising=False)
    tty, pipe = _Tty(), io.StringIO()
    for stream in (tty, pipe):
        p = progress.Progress("ingest big.json", 2_000_000, stream=stream)
        p.update(done_bytes=1_000_000, rows=12_345)
        p.done()
        progress.note("model core.deployments: started", stream=stream)
    assert "ingest big.json: 1 MB of 2 MB (50%), 12,345 rows" in tty.getvalue()
    assert "model core.deployments: started\n" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_the_environment_forces_or_silences_progress(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(progress.ENV_VAR, "1")
    assert progress.enabled(io.StringIO())
    monkeypatch.setenv(progress.ENV_VAR, "0")
    assert not progress.enabled(_Tty())


def _cli(home: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run(
        [sys.executable, "-m", "ops_warehouse.cli", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize("maker", ["csv", "prometheus"])
def test_ingest_reports_progress_as_it_goes(tmp_path: Path, maker: str) -> None:
    path = _deploys(tmp_path / "d.csv", 30_000) if maker == "csv" else _range_json(tmp_path / "r.json", 40, 2_000)
    forced = _cli(tmp_path / "home-a", "ingest", str(path), env={progress.ENV_VAR: "1"})
    assert forced.returncode == 0, forced.stderr
    # the line is redrawn in place with carriage returns (text mode reads them as newlines)
    drawn = [part for part in forced.stderr.splitlines() if part.startswith(f"ingest {path.name}: ")]
    assert drawn, forced.stderr
    assert any("rows" in part or "MB of" in part for part in drawn)
    quiet = _cli(tmp_path / "home-b", "ingest", str(path), env={progress.ENV_VAR: ""})
    assert quiet.returncode == 0 and "ingest " not in quiet.stderr, quiet.stderr
    assert quiet.stdout.splitlines()[0] == forced.stdout.splitlines()[0].replace("home-a", "home-b")


def test_build_reports_each_model_as_it_starts_and_ends(
    home: DataHome, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ingest_file(home, _deploys(tmp_path / "d.csv", 3))
    capsys.readouterr()
    monkeypatch.setenv(progress.ENV_VAR, "1")
    counts = build_models(home)
    err = capsys.readouterr().err.splitlines()
    for key in counts:
        start = err.index(f"model {key}: started")
        done = next(i for i, line in enumerate(err) if line.startswith(f"model {key}: done, "))
        assert start < done
    assert "model core.deployments: done, 3 rows in " in "\n".join(err)
    monkeypatch.setenv(progress.ENV_VAR, "")
    build_models(home)
    assert "model " not in capsys.readouterr().err
