"""Writing output files atomically: all of the new content or none of it.

Every command that takes ``-o FILE`` goes through :func:`write_atomic`. It writes to a
temporary file in the same folder as FILE (so the final rename never crosses a file
system), flushes it to disk, and renames it over FILE with :func:`os.replace`, which
is atomic on POSIX and Windows. A reader therefore sees either the old file or the
complete new one, never a half-written file, and an error or Ctrl-C part-way leaves
nothing behind.

Problems the user can fix (a missing folder, no permission, FILE is a folder) become
an :class:`~symderiv.errors.OutputError` whose one-line message names the path; the
CLI turns it into exit 1.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from .errors import OutputError

__all__ = ["write_atomic"]

#: Permission bits asked for when creating a new file; the process umask then applies,
#: exactly as for ``open(path, "w")`` (tempfile.mkstemp would give 0o600 instead).
_NEW_FILE_MODE = 0o666


def _fail(path: str | os.PathLike[str], reason: str) -> OutputError:
    return OutputError(f"cannot write {os.fspath(path)!r}: {reason}")


def _reason(exc: OSError) -> str:
    """A short lower-case reason from an OSError ("permission denied", ...)."""
    text = exc.strerror or exc.__class__.__name__
    return text[:1].lower() + text[1:]


def _open_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """Create a new, empty, uniquely named file next to the target; (fd, path)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        candidate = folder / f".{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(candidate, flags, _NEW_FILE_MODE), candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")  # pragma: no cover


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: str | bytes) -> None:
    """Write ``data`` to ``path`` atomically: the whole new content or nothing.

    Text is encoded as UTF-8 and written byte for byte (no newline translation), so the
    same data gives the same file on every platform. An existing file keeps its
    permission bits; a new one gets the usual ``0o666`` less the umask. When ``path`` is
    a symbolic link, the file it points to is replaced and the link is kept.

    Args:
        path: the file to create or replace. Its folder must already exist.
        data: the complete new content, ``str`` (UTF-8) or ``bytes``.

    Raises:
        OutputError: the folder is missing or not a folder, ``path`` is a folder, or
            the file cannot be written (permissions, disk full, ...). The message is
            one line and names ``path``. Nothing is left behind.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "x = 1\\n")
    >>> (folder / "a.txt").read_text()
    'x = 1\\n'
    >>> sorted(p.name for p in folder.iterdir())  # no temporary file left
    ['a.txt']
    """
    if not os.fspath(path):
        raise OutputError("cannot write '': the output path is empty")
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    target = Path(os.path.realpath(path))
    folder = target.parent
    if not folder.exists():
        raise _fail(path, f"folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise _fail(path, f"{str(folder)!r} is not a folder")
    if target.is_dir():
        raise _fail(path, "it is a folder; give a file name")
    try:
        mode: int | None = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise _fail(path, _reason(exc)) from exc

    try:
        fd, temporary = _open_temporary(folder, target.name)
    except OSError as exc:
        raise _fail(path, _reason(exc)) from exc
    try:
        try:
            try:
                view = memoryview(payload)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)  # the data is on disk before the rename publishes it
            finally:
                os.close(fd)
            if mode is not None:
                os.chmod(temporary, mode)
            os.replace(temporary, target)
        except OSError as exc:
            raise _fail(path, _reason(exc)) from exc
    except BaseException:
        # Any failure, KeyboardInterrupt included: remove the temporary file, re-raise.
        try:
            temporary.unlink()
        except OSError:
            pass
        raise
    _fsync_folder(folder)
