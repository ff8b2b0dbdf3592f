"""Outputs that are complete or absent: atomic output folders and atomic files.

A command writes its whole output folder into a temporary sibling
(``.NAME.tmp-XXXX``) and swaps it into place only when everything is written, so
an earlier complete output stays until the new one is complete, and an
interrupted, failed or out-of-disk run leaves no half-written folder that looks
complete. ``run.json`` (when the command writes one) gets ``"complete": true``
last, just before the swap.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

from ssa.errors import UserError

__all__ = ["atomic_folder", "atomic_file", "write_text_atomic", "RUN_JSON"]

RUN_JSON = "run.json"
# Errors that mean "no room to write": the message says so and that the old output stays.
NO_SPACE_ERRNOS = frozenset({errno.ENOSPC, errno.EFBIG, errno.EDQUOT})
_RENAME_EXCHANGE = 2  # linux/fs.h: swap two paths atomically (renameat2, Linux >= 3.15)
_AT_FDCWD = -100


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap paths a and b (renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        fn = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    rc = fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE)
    return rc == 0


def _swap_in(tmp: Path, target: Path) -> None:
    """Put folder tmp at target; an existing target is replaced in one step when the
    kernel allows it (else: two renames, the old folder kept until the new one is in)."""
    if not target.exists():
        os.rename(tmp, target)
        return
    if target.is_dir() and _exchange(tmp, target):
        shutil.rmtree(tmp, ignore_errors=True)  # tmp now holds the old output
        return
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
    os.rename(target, old / "x")
    os.rename(tmp, target)
    shutil.rmtree(old, ignore_errors=True)


def _mark_complete(folder: Path) -> None:
    run = folder / RUN_JSON
    if not run.is_file():
        return
    record = json.loads(run.read_text())
    record.pop("complete", None)
    record["complete"] = True  # last key: written after every other file of the run
    write_text_atomic(run, json.dumps(record, indent=1) + "\n")


def _no_space(exc: OSError, target: Path) -> UserError:
    return UserError(
        f"could not write {target}: {exc.strerror or exc} (disk full or "
        f"file-size limit); nothing was replaced, the previous output (if any) "
        f"is unchanged"
    )


@contextmanager
def atomic_folder(target):
    """Yield a new empty temporary folder beside ``target``; on success it replaces
    ``target`` (run.json marked complete first); on any error or interrupt it is removed
    and ``target`` is left as it was. Disk-full errors become a UserError saying so."""
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise UserError(f"output folder {target} exists and is not a folder")
    created = _missing_folders(target.parent)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        _mark_complete(tmp)
        _swap_in(tmp, target)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        if exc.errno in NO_SPACE_ERRNOS:
            raise _no_space(exc, target) from exc
        raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        _remove_empty(created)
        raise


def _missing_folders(folder: Path) -> list:
    """The folders from folder up that do not exist yet (deepest first)."""
    out = []
    while not folder.exists() and folder != folder.parent:
        out.append(folder)
        folder = folder.parent
    return out


def _remove_empty(folders: list) -> None:
    """Remove the folders a failed run created for its output, deepest first, while
    empty (something else may have put files there meanwhile: then they stay)."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:
            return


@contextmanager
def atomic_file(path, mode: str = "w", **kwargs):
    """Yield a file object writing to a temporary sibling of ``path`` that replaces
    ``path`` when the block ends without error (removed otherwise)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except OSError as exc:
        _unlink(tmp)
        if exc.errno in NO_SPACE_ERRNOS:
            raise _no_space(exc, path) from exc
        raise
    except BaseException:
        _unlink(tmp)
        raise


def write_text_atomic(path, text: str, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    with atomic_file(path, "w", encoding=encoding) as fh:
        fh.write(text)
    return Path(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _unlink(path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
