"""Writing output files: all of the new content or none of it, and never over a special file.

:func:`write_atomic` writes a regular file (or a new path) through a temporary file in the
same folder, renamed over it with :func:`os.replace`: a reader sees the old file or the
complete new one, and an error or Ctrl-C part-way leaves nothing behind. A FIFO, a device
or an open descriptor (``/dev/stdout``, ``/dev/fd/N``, a shell's ``>(cmd)``) is written in
place, as the shell's ``>`` would. A read-only file is refused (as by ``>``; a rename would
bypass its permission). :func:`check_writable` makes the same checks without writing, so
a command can refuse a bad path before any work; each problem is an
:class:`~symderiv.errors.OutputError` whose one-line message names the path (exit 1).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .errors import OutputError, UsageError

#: Permission bits asked for when creating a new file; the process umask then applies,
#: exactly as for ``open(path, "w")`` (tempfile.mkstemp would give 0o600 instead).
_NEW_FILE_MODE = 0o666
#: Longest file name (bytes) where the system does not say.
_NAME_MAX = 255
#: Paths that name an open file descriptor: written in place, whatever they lead to.
_DESCRIPTOR = re.compile(
    r"/(?:dev/(?:stdout|stderr|fd/\d+)|proc/(?:self|thread-self|\d+)/fd/\d+)\Z"
)


def _fail(path: str | os.PathLike[str], reason: str) -> OutputError:
    return OutputError(f"cannot write {os.fspath(path)!r}: {reason}")


def _reason(exc: OSError) -> str:
    """A short lower-case reason from an OSError ("permission denied", ...)."""
    text = exc.strerror or exc.__class__.__name__
    return text[:1].lower() + text[1:]


def read_text(
    path: str,
    shown: str,
    give: str,
    hint: str = "",
    limit: int | None = None,
    stdin: bool = False,
) -> str:
    """The UTF-8 text of a user's file ``path`` (at most ``limit`` bytes; standard input
    for ``-`` when ``stdin``), named ``shown`` in messages (``--roster 'names.txt'``).

    Raises:
        UsageError: a folder (give ``give``), unreadable (the OS's reason, lower case),
            over ``limit`` or not UTF-8 (these two end with ``hint``).
    """
    try:
        if stdin and path == "-":
            import sys

            return sys.stdin.read()
        if os.path.isdir(path):
            raise UsageError(f"{shown} is a folder; give {give}")
        with open(path, "rb") as handle:
            data = handle.read(-1 if limit is None else limit + 1)
        if limit is not None and len(data) > limit:
            raise UsageError(f"{shown} is larger than {limit // 1_000_000} MB; {hint}")
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        after = f", {hint}" if hint else ""
        raise UsageError(
            f"{shown} is not UTF-8 text; save it as UTF-8{after}"
        ) from None
    except OSError as exc:  # all in lower case, as messages about reading have said
        raise UsageError(f"{shown} cannot be read: {_reason(exc).lower()}") from None


def _names_a_descriptor(path: str) -> bool:
    """True when ``path`` is (or links to) ``/dev/stdout``, ``/dev/fd/N``, ``/proc/…/fd/N``."""
    current = os.path.abspath(path)
    for _ in range(40):  # the kernel's own limit on links followed
        if _DESCRIPTOR.match(current):
            return True
        try:
            link = os.readlink(current)
        except OSError:
            return False
        current = os.path.normpath(os.path.join(os.path.dirname(current), link))
    return False


def _name_max(folder: Path) -> int:
    try:
        return int(os.pathconf(folder, "PC_NAME_MAX"))
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not on Linux
        return _NAME_MAX


@dataclass(frozen=True)
class _Plan:
    """How one path is written: replaced atomically (or created), or written in place."""

    target: Path  # the resolved path (symbolic links followed)
    in_place: bool
    mode: int | None  # permission bits of an existing regular file


def _plan(path: str | os.PathLike[str]) -> _Plan:
    """Inspect ``path`` without writing; raise OutputError for what cannot be written."""
    name = os.fspath(path)
    if not name:
        raise OutputError("cannot write '': the output path is empty")
    try:
        info = os.stat(name)
    except FileNotFoundError:
        info = None
    except NotADirectoryError:
        parent = os.path.dirname(os.path.realpath(name))
        raise _fail(path, f"{parent!r} is not a folder") from None
    except OSError as exc:  # a name too long, a loop of links, ...
        raise _fail(path, _reason(exc)) from None
    target = Path(os.path.realpath(name))
    if info is not None:
        if stat.S_ISDIR(info.st_mode):
            raise _fail(path, "it is a folder; give a file name")
        if not stat.S_ISREG(info.st_mode) or _names_a_descriptor(name):
            return _Plan(Path(name), in_place=True, mode=None)
        if not os.access(name, os.W_OK):
            raise _fail(path, "permission denied (the file is read-only)")
        return _Plan(target, in_place=False, mode=stat.S_IMODE(info.st_mode))
    if name.endswith(("/", os.sep)):  # "out/": a folder that does not exist, not a file
        raise _fail(path, "it names a folder (it ends in /); give a file name")
    folder = target.parent
    if not folder.exists():
        raise _fail(path, f"folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise _fail(path, f"{str(folder)!r} is not a folder")
    if len(os.fsencode(target.name)) > _name_max(folder):
        raise _fail(path, "file name too long")
    return _Plan(target, in_place=False, mode=None)


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise the :class:`OutputError` :func:`write_atomic` would raise for ``path``, if any.

    Writes nothing. Checks the path (empty, too long, a folder, a missing folder, a
    read-only file) and, where a new file would be made, that its folder is writable.
    """
    plan = _plan(path)
    if not plan.in_place and not os.access(plan.target.parent, os.W_OK):
        raise _fail(path, "permission denied")


def file_key(path: str | os.PathLike[str]) -> tuple[object, ...]:
    """What a path names: equal keys are the same file (links and ``..`` followed; an
    existing file by device and inode, a file still to be made by its real path)."""
    try:
        found = os.stat(path)
    except OSError:
        return ("new", os.path.normcase(os.path.realpath(path)))
    return ("file", found.st_dev, found.st_ino)


def _open_temporary(folder: Path, name: str) -> tuple[int, Path]:
    """Create a new, empty file ``.NAME.xxxxxxxx.tmp`` next to the target, NAME shortened
    so that the whole fits the folder's longest name; (fd, path)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    limit = _name_max(folder)
    for _ in range(100):
        token, stem = secrets.token_hex(4), name
        while stem and len(os.fsencode(f".{stem}.{token}.tmp")) > limit:
            stem = stem[:-1]
        candidate = folder / f".{stem}.{token}.tmp"
        try:
            return os.open(candidate, flags, _NEW_FILE_MODE), candidate
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")  # pragma: no cover


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows it (best effort)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


#: Streamed text is written in pieces of about this many characters.
_PIECE = 1 << 20


def _encoded(data: str | bytes | Iterable[str]) -> Iterator[bytes]:
    """The content as UTF-8 bytes: at once for str/bytes, a piece at a time for chunks."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        yield bytes(data)
        return
    if isinstance(data, str):
        data = (data,)
    batch: list[str] = []
    size = 0
    for chunk in data:
        batch.append(chunk)
        size += len(chunk)
        if size >= _PIECE:
            yield "".join(batch).encode("utf-8")
            batch, size = [], 0
    if batch:
        yield "".join(batch).encode("utf-8")


def _write_data(fd: int, data: str | bytes | Iterable[str]) -> None:
    for piece in _encoded(data):
        view = memoryview(piece)
        while view:  # os.write may write less than asked
            view = view[os.write(fd, view) :]


def _write_in_place(
    path: str | os.PathLike[str], payload: str | bytes | Iterable[str]
) -> None:
    """Open an existing special file (FIFO, device, descriptor) and write to it."""
    flags = os.O_WRONLY | os.O_TRUNC | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
        try:
            _write_data(fd, payload)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _fail(path, _reason(exc)) from exc


def write_atomic(
    path: str | os.PathLike[str], data: str | bytes | Iterable[str]
) -> None:
    """Write ``data`` to ``path``: atomically for a regular file, in place for a special one.

    Text is encoded as UTF-8 and written byte for byte (no newline translation), so the
    same data gives the same file on every platform. An existing file keeps its
    permission bits; a new one gets the usual ``0o666`` less the umask. When ``path`` is
    a symbolic link, the file it points to is replaced and the link is kept. A FIFO, a
    device or ``/dev/stdout`` (``/dev/fd/N``) is opened and written in place.

    Args:
        path: the file to create or replace. Its folder must already exist.
        data: the complete new content, ``str`` (UTF-8) or ``bytes``; or an iterable
            of ``str`` chunks, written as they come (a big document need not be held
            in memory; if producing a chunk fails, nothing is left behind either).

    Raises:
        OutputError: the folder is missing or not a folder, ``path`` is a folder, the
            name is too long, the file is read-only, or it cannot be written (permissions,
            disk full, ...). The message is one line and names ``path``. Nothing is left
            behind.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "x = 1\\n")
    >>> (folder / "a.txt").read_text()
    'x = 1\\n'
    >>> sorted(p.name for p in folder.iterdir())  # no temporary file left
    ['a.txt']
    """
    plan = _plan(path)
    if plan.in_place:
        _write_in_place(path, data)
        return
    target, folder = plan.target, plan.target.parent
    try:
        fd, temporary = _open_temporary(folder, target.name)
    except OSError as exc:
        raise _fail(path, _reason(exc)) from exc
    try:
        try:
            try:
                _write_data(fd, data)
                os.fsync(fd)  # the data is on disk before the rename publishes it
            finally:
                os.close(fd)
            if plan.mode is not None:
                os.chmod(temporary, plan.mode)
            os.replace(temporary, target)
        except OSError as exc:
            raise _fail(path, _reason(exc)) from exc
    except BaseException:
        # Any failure, KeyboardInterrupt included: remove the temporary file, re-raise.
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _fsync_folder(folder)
