"""write_atomic: the whole new file or nothing, and one-line errors naming the path."""

from __future__ import annotations

import os
import stat
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
