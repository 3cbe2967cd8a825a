"""write_atomic: the whole new file or nothing, and one-line errors naming the path."""

from __future__ import annotations

import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from symderiv.errors import OutputError
from symderiv.fileio import write_atomic


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_writes_text_as_utf8_bytes_without_newline_translation(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    write_atomic(target, "dW = Xᵀ·dY\r\nline\n")
    assert target.read_bytes() == "dW = Xᵀ·dY\r\nline\n".encode()
    assert _names(tmp_path) == ["out.txt"]


def test_writes_bytes_and_accepts_str_paths(tmp_path: Path) -> None:
    write_atomic(str(tmp_path / "b.bin"), b"\x00\xff")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\xff"


def test_replaces_existing_file_and_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old")
    target.chmod(0o640)
    write_atomic(target, "new")
    assert target.read_text() == "new"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert _names(tmp_path) == ["out.txt"]


def test_new_file_gets_umask_mode_not_0600(tmp_path: Path) -> None:
    umask = os.umask(0o022)
    try:
        write_atomic(tmp_path / "f.txt", "x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "f.txt").stat().st_mode) == 0o644


def test_symlink_is_kept_and_its_target_replaced(tmp_path: Path) -> None:
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    write_atomic(link, "new")
    assert link.is_symlink()
    assert real.read_text() == "new"


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p / "missing" / "out.txt", "does not exist"),
        (lambda p: p, "is a folder"),
    ],
    ids=["missing-folder", "path-is-folder"],
)
def test_bad_paths_raise_one_line_naming_the_path(
    tmp_path: Path, make: Callable[[Path], Path], fragment: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(OutputError) as info:
        write_atomic(path, "x")
    message = str(info.value)
    assert "\n" not in message
    assert str(path) in message
    assert fragment in message


def test_parent_that_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match="is not a folder"):
        write_atomic(tmp_path / "file" / "out.txt", "x")


def test_empty_path() -> None:
    with pytest.raises(OutputError, match="empty"):
        write_atomic("", "x")


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0,
    reason="needs POSIX permissions and a non-root user",
)
def test_unwritable_folder(tmp_path: Path) -> None:  # pragma: no cover - not as root
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="ermission denied"):
            write_atomic(folder / "out.txt", "x")
    finally:
        folder.chmod(0o700)
    assert _names(folder) == []


def test_permission_error_from_the_file_system(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unwritable folder, simulated (the tests may run as root)."""

    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    target = tmp_path / "out.txt"
    with pytest.raises(OutputError) as info:
        write_atomic(target, "x")
    assert str(info.value) == f"cannot write {str(target)!r}: permission denied"
    assert _names(tmp_path) == []


@pytest.mark.parametrize(
    "error", [OSError(28, "No space left on device"), KeyboardInterrupt()]
)
def test_failure_mid_write_leaves_old_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: BaseException
) -> None:
    target = tmp_path / "out.txt"
    target.write_text("old content")

    def fail(fd: int, data: object) -> int:
        raise error

    monkeypatch.setattr(os, "write", fail)
    expected = OutputError if isinstance(error, OSError) else KeyboardInterrupt
    with pytest.raises(expected):
        write_atomic(target, "new content")
    assert target.read_text() == "old content"
    assert _names(tmp_path) == ["out.txt"]


def test_failure_at_rename_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        write_atomic(tmp_path / "new.txt", "x")
    assert _names(tmp_path) == []


def test_short_writes_are_continued(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.write may write fewer bytes than asked; the rest must follow."""
    real_write = os.write

    def short(fd: int, data: bytes) -> int:
        return real_write(fd, bytes(data[:3]))

    monkeypatch.setattr(os, "write", short)
    write_atomic(tmp_path / "out.txt", "0123456789")
    assert (tmp_path / "out.txt").read_text() == "0123456789"


# -- special files, long names, read-only files (issue 14, items 1, 4 and 6) ---------------


def test_a_fifo_is_written_in_place_not_replaced(tmp_path: Path) -> None:
    """A FIFO (like a device or /dev/null) stays what it is; the reader gets the data."""
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_atomic(fifo, "through the pipe\n")
    reader.join(timeout=10)
    assert got == [b"through the pipe\n"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert _names(tmp_path) == ["pipe"]


def test_a_symlink_to_a_fifo_is_written_in_place(tmp_path: Path) -> None:
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link"
    link.symlink_to(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_atomic(link, b"x")
    reader.join(timeout=10)
    assert got == [b"x"]
    assert link.is_symlink() and stat.S_ISFIFO(fifo.stat().st_mode)


def _run_writer(path: str, stdout: int) -> int:
    """``write_atomic(path, ...)`` in a child whose stdout is ``stdout``."""
    import subprocess
    import sys

    code = (
        "import sys; from symderiv.fileio import write_atomic; "
        "write_atomic(sys.argv[1], 'via ' + sys.argv[1] + '\\n')"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        [sys.executable, "-c", code, path], stdout=stdout, env=env, check=False
    ).returncode


@pytest.mark.parametrize("name", ["/dev/stdout", "/dev/fd/1"])
def test_dev_stdout_to_a_pipe_is_written_through(name: str) -> None:
    read, write = os.pipe()
    try:
        assert _run_writer(name, write) == 0
    finally:
        os.close(write)
    with os.fdopen(read, "rb") as pipe:
        assert pipe.read() == f"via {name}\n".encode()


def test_dev_stdout_redirected_to_a_file_writes_the_shells_file(
    tmp_path: Path,
) -> None:
    """`-o /dev/stdout > f.txt`: the file the shell opened gets the data (same inode)."""
    target = tmp_path / "f.txt"
    target.write_text("")
    inode = target.stat().st_ino
    with target.open("wb") as handle:
        assert _run_writer("/dev/stdout", handle.fileno()) == 0
    assert target.read_text() == "via /dev/stdout\n"
    assert target.stat().st_ino == inode
    assert _names(tmp_path) == ["f.txt"]


def test_a_name_too_long_for_the_file_system_is_one_clean_line(tmp_path: Path) -> None:
    target = tmp_path / ("b" * 300)
    with pytest.raises(OutputError) as info:
        write_atomic(target, "x")
    assert str(info.value).endswith("file name too long")
    assert _names(tmp_path) == []


def test_the_longest_valid_name_is_written(tmp_path: Path) -> None:
    """A 255-byte name is valid; the temporary name must not push it over NAME_MAX."""
    for name in ("a" * 250 + ".json", "é" * 126 + ".js"):  # 255 bytes each
        assert len(os.fsencode(name)) == 255
        write_atomic(tmp_path / name, "{}\n")
        assert (tmp_path / name).read_text() == "{}\n"
        write_atomic(tmp_path / name, "[]\n")  # and replaced, atomically
        assert (tmp_path / name).read_text() == "[]\n"
    assert len(_names(tmp_path)) == 2


def _as_user(code: str, folder: Path) -> subprocess.CompletedProcess[str]:
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    return subprocess.run(
        ["setpriv", "--reuid=12345", "--regid=12345", "--clear-groups",
         sys.executable, "-c", code],
        cwd=folder, env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip


def test_a_read_only_file_is_refused_like_the_shells_redirect(tmp_path: Path) -> None:
    """`echo old > ro; chmod 444 ro`: `>` refuses, so does -o (it used to rename over it)."""
    import shutil

    if shutil.which("setpriv") is None or os.geteuid() != 0:
        pytest.skip("needs root to drop to another user with setpriv")
    import tempfile

    # pytest's tmp_path sits in a folder only root may enter: use a fresh one in /tmp.
    folder = Path(tempfile.mkdtemp(prefix="symderiv-ro-"))
    folder.chmod(0o777)
    target = folder / "ro.json"
    target.write_text("old\n")
    target.chmod(0o444)
    code = (
        "from symderiv.fileio import write_atomic\n"
        "from symderiv.errors import OutputError\n"
        "try:\n    write_atomic('ro.json', 'new')\n"
        "except OutputError as e:\n    print(e)\n"
    )
    done = _as_user(code, folder)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "cannot write 'ro.json': permission denied (the file is read-only)"
    )
    assert target.read_text() == "old\n"
    assert _names(folder) == ["ro.json"]
    # A writable file of the same user is still replaced.
    done = _as_user(
        "from symderiv.fileio import write_atomic; write_atomic('w.json', 'a');"
        "write_atomic('w.json', 'b')",
        folder,
    )
    assert done.returncode == 0, done.stderr
    assert (folder / "w.json").read_text() == "b"
    shutil.rmtree(folder)


def test_a_path_ending_in_a_slash_is_a_folder_not_a_new_file(tmp_path: Path) -> None:
    """``-o out/`` for a folder that does not exist wrote a file called ``out``."""
    with pytest.raises(OutputError, match=r"it names a folder \(it ends in /\)"):
        write_atomic(f"{tmp_path / 'out'}/", "x")
    assert _names(tmp_path) == []
