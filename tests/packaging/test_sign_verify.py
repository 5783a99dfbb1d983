"""packaging/linux/sign.sh and verify.sh on a small folder: what a user's verify accepts and
every kind of change it must refuse. (The full bundle: test_bundle.py, opt-in.)"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from engine.paths import PROJECT_ROOT
from tests.packaging._programs import run_program

SIGN = PROJECT_ROOT / "packaging" / "linux" / "sign.sh"
VERIFY = PROJECT_ROOT / "packaging" / "linux" / "verify.sh"


def _openssl_has_ed25519() -> bool:
    if not shutil.which("openssl"):
        return False
    return run_program("openssl", "version").stdout.startswith("OpenSSL 3")


pytestmark = pytest.mark.skipif(
    not _openssl_has_ed25519(), reason="needs OpenSSL 3 (Ed25519 with -rawin)"
)


def run(*argv: object) -> subprocess.CompletedProcess[str]:
    return run_program(*argv)


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    secret, public = tmp_path / "k.pem", tmp_path / "k.pub"
    assert run("openssl", "genpkey", "-algorithm", "ed25519", "-out", secret).returncode == 0
    assert run("openssl", "pkey", "-in", secret, "-pubout", "-out", public).returncode == 0
    return secret, public


@pytest.fixture
def app(tmp_path: Path, keys: tuple[Path, Path]) -> Path:
    """A signed stand-in for the Hearth/ folder: an executable, a library, a symlink."""
    root = tmp_path / "Hearth"
    (root / "_internal" / "lib").mkdir(parents=True)
    (root / "hearth").write_bytes(b"\x7fELF pretend executable")
    (root / "_internal" / "lib" / "libllama.so").write_bytes(bytes(range(256)) * 16)
    (root / "_internal" / "name with space.txt").write_text("ok")
    (root / "_internal" / "libllama.so.0").symlink_to("lib/libllama.so")
    done = run(SIGN, keys[0], root)
    assert done.returncode == 0, done.stderr
    return root


def verify(public: Path, folder: Path) -> subprocess.CompletedProcess[str]:
    return run(VERIFY, "--key", public, folder)


def test_a_signed_folder_verifies(app: Path, keys: tuple[Path, Path]):
    done = verify(keys[1], app)
    assert done.returncode == 0, done.stderr
    assert "files: 3 checked" in done.stdout
    assert done.stdout.rstrip().endswith("is exactly what was signed")


def test_one_flipped_byte_is_refused(app: Path, keys: tuple[Path, Path]):
    lib = app / "_internal" / "lib" / "libllama.so"
    data = bytearray(lib.read_bytes())
    data[2000] ^= 0x01
    lib.write_bytes(bytes(data))
    done = verify(keys[1], app)
    assert done.returncode == 1
    assert "changed: _internal/lib/libllama.so" in done.stderr


def test_an_added_file_is_refused(app: Path, keys: tuple[Path, Path]):
    (app / "_internal" / "lib" / "libevil.so").write_bytes(b"x")
    done = verify(keys[1], app)
    assert done.returncode == 1
    assert "not signed: _internal/lib/libevil.so" in done.stderr


def test_a_removed_file_is_refused(app: Path, keys: tuple[Path, Path]):
    (app / "_internal" / "name with space.txt").unlink()
    done = verify(keys[1], app)
    assert done.returncode == 1
    assert "missing: _internal/name with space.txt" in done.stderr


def test_a_redirected_symlink_is_refused(app: Path, keys: tuple[Path, Path]):
    link = app / "_internal" / "libllama.so.0"
    link.unlink()
    link.symlink_to("/tmp/libllama.so")
    done = verify(keys[1], app)
    assert done.returncode == 1
    assert "changed symlink: _internal/libllama.so.0" in done.stderr


def test_an_edited_manifest_fails_the_signature(app: Path, keys: tuple[Path, Path]):
    sums = app / "SHA256SUMS"
    sums.write_text(sums.read_text().replace("complete", "listed"))
    done = verify(keys[1], app)
    assert done.returncode == 1
    assert "is not signed by this key" in done.stderr


def test_another_key_is_refused(app: Path, tmp_path: Path):
    other = tmp_path / "other.pem"
    run("openssl", "genpkey", "-algorithm", "ed25519", "-out", other)
    run("openssl", "pkey", "-in", other, "-pubout", "-out", tmp_path / "other.pub")
    done = verify(tmp_path / "other.pub", app)
    assert done.returncode == 1
    assert "is not signed by this key" in done.stderr


def test_a_listed_release_folder_ignores_other_downloads(tmp_path: Path, keys: tuple[Path, Path]):
    release = tmp_path / "Downloads"
    release.mkdir()
    (release / "hearth-0.1.0-linux-x86_64.tar.gz").write_bytes(b"tarball")
    assert run(SIGN, "--listed", keys[0], release).returncode == 0
    (release / "something-else.pdf").write_bytes(b"unrelated")
    assert verify(keys[1], release).returncode == 0
    (release / "hearth-0.1.0-linux-x86_64.tar.gz").write_bytes(b"tarbalL")
    done = verify(keys[1], release)
    assert done.returncode == 1
    assert "changed: hearth-0.1.0-linux-x86_64.tar.gz" in done.stderr


def test_every_symlink_is_signed_however_many(tmp_path: Path, keys: tuple[Path, Path]):
    # More link names than a pipe holds (64 KiB): sign.sh once asked `find -type l | grep -q .`
    # under pipefail, grep stopped at the first line, find died of SIGPIPE, and no symlink was
    # listed (CI: 42 bundle libraries "not signed").
    root = tmp_path / "Hearth"
    (root / "_internal").mkdir(parents=True)
    (root / "_internal" / "libreal.so").write_bytes(b"library")
    for i in range(3000):
        (root / "_internal" / f"libsome-long-library-name-{i:05}.so.6").symlink_to("libreal.so")
    done = run(SIGN, keys[0], root)
    assert done.returncode == 0, done.stderr
    sums = (root / "SHA256SUMS").read_text()
    assert sums.count("# symlink ") == 3000
    checked = verify(keys[1], root)
    assert checked.returncode == 0, checked.stderr[-2000:]
