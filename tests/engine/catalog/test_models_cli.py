"""`hearth models pull|import|remove|verify`, run as a person would (a child process), and
`pull` in-process against a loopback server (the shipped catalog accepts only https URLs)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import engine.catalog
import engine.policy
from engine.catalog import Catalog
from engine.cli import main
from engine.paths import PROJECT_ROOT, models_dir
from engine.policy import Mode
from engine.storage import open_store
from tests.engine.catalog._gguf_files import write_gguf
from tests.engine.catalog._serve import range_server

HEARTH = Path(sys.executable).parent / "hearth"


def hearth(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HEARTH), "models", *args],
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
        env=dict(os.environ),
        cwd=PROJECT_ROOT,
        check=False,
    )


def test_list_shows_fit_with_speed_estimates_and_disk_use(starter_model_path: Path):
    done = hearth()
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if "smollm2-135m-instruct-q4_1" in x)
    assert line.startswith("* ") and "bundled" in line
    assert "fits in RAM, CPU only, ~" in line and "tokens/s (estimate)" in line
    assert "does not fit: needs ~" in done.stdout  # QwQ Q8_0 is 35 GB; this machine has less


def test_pull_is_refused_in_local_only_mode():
    done = hearth("pull", "qwq-32b-q4_k_m")
    assert done.returncode == 1
    assert done.stderr.startswith("hearth: Local-only mode is on, so Hearth will not download")
    assert "--allow-download" in done.stderr and "Traceback" not in done.stderr
    assert not models_dir().exists() or not any(models_dir().iterdir())


def test_pull_with_allow_download_installs_and_returns_to_local_only(
    catalog: Catalog, tmp_path: Path, monkeypatch, capsys
):
    served = tmp_path / "served"
    served.mkdir()
    source = write_gguf(served / "tiny.gguf", tensor_bytes=2 << 20)
    with range_server(served, "--drop-after", "700000") as server:
        tiny = dataclasses.replace(
            catalog.default,
            id="tiny-test",
            name="Tiny",
            quantization="F16",
            file="tiny.gguf",
            urls=(server.url("tiny.gguf"),),
            size=source.stat().st_size,
            approx_size=0,
            sha256=hashlib.sha256(source.read_bytes()).hexdigest(),
            source="",
        )
        test_catalog = dataclasses.replace(catalog, models=(*catalog.models, tiny))
        monkeypatch.setattr(engine.catalog, "load_catalog", lambda: test_catalog)
        assert main(["models", "pull", "tiny-test", "--allow-download"]) == 0
    out, err = capsys.readouterr()
    assert "Installed Tiny F16" in out and "sha256 verified against the catalog" in out
    assert "Downloading Tiny F16" in err
    assert (models_dir() / "tiny.gguf").read_bytes() == source.read_bytes()
    assert engine.policy.current_mode() is Mode.LOCAL_ONLY
    # The download's connections are in the ledger kept in the encrypted store.
    # (Entries of earlier tests in this process are written too: the port tells them apart.)
    with open_store() as store:
        kept = [e for e in store.egress_history() if e.allowed and e.port == server.port]
    assert kept and all(e.host == "127.0.0.1" for e in kept)


def test_import_then_remove_with_confirmation(tmp_path: Path):
    source = write_gguf(tmp_path / "my-model.gguf")
    done = hearth("import", str(source))
    assert done.returncode == 0, done.stderr
    assert "Imported unknown model “Tiny Test”: llama" in done.stdout
    assert "warning: “my-model.gguf” is not in the catalog" in done.stderr
    installed = models_dir() / "my-model.gguf"
    assert installed.exists()

    kept = hearth("remove", "my-model.gguf", stdin="n\n")
    assert kept.returncode == 1 and "Nothing removed." in kept.stdout
    assert "Remove my-model.gguf (1 MB on disk)" in kept.stdout and installed.exists()

    gone = hearth("remove", "my-model.gguf", stdin="y\n")
    assert gone.returncode == 0 and "Removed my-model.gguf" in gone.stdout
    assert not installed.exists() and source.exists()


def test_remove_yes_does_not_ask(tmp_path: Path):
    assert hearth("import", str(write_gguf(tmp_path / "m.gguf"))).returncode == 0
    done = hearth("remove", "m.gguf", "--yes", stdin="")
    assert done.returncode == 0 and "[y/N]" not in done.stdout
    assert not (models_dir() / "m.gguf").exists()


def test_import_of_an_unsafe_template_is_a_clear_error(tmp_path: Path):
    evil = write_gguf(
        tmp_path / "evil.gguf", chat_template="{{ cycler.__init__.__globals__.os.system('id') }}"
    )
    done = hearth("import", str(evil))
    assert done.returncode == 1
    assert done.stderr.startswith(
        "hearth: The model's chat template tries to reach Python internals"
    )
    assert "Nothing was copied" in done.stderr and "Traceback" not in done.stderr


@pytest.mark.parametrize("args", [(), ("smollm2-135m-instruct-q4_1",)])
def test_verify_the_starter(starter_model_path: Path, args):
    done = hearth("verify", *args)
    assert done.returncode == 0, done.stderr
    assert "SmolLM2 135M Instruct Q4_1: OK (sha256 matches the catalog)" in done.stdout


def test_verify_reports_a_damaged_import(tmp_path: Path):
    assert hearth("import", "--copy", str(write_gguf(tmp_path / "m.gguf"))).returncode == 0
    with (models_dir() / "m.gguf").open("r+b") as fh:
        fh.seek(-1, os.SEEK_END)
        fh.write(b"\x01")
    done = hearth("verify", "m.gguf")
    assert done.returncode == 1
    assert "m.gguf: DAMAGED" in done.stdout and "hearth models remove" in done.stderr


def test_verify_of_a_model_that_is_not_installed():
    done = hearth("verify", "qwq-32b-q4_k_m")
    assert done.returncode == 1
    assert done.stderr.startswith("hearth: “qwq-32b-q4_k_m” is not installed.")
