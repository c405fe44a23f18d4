"""Reading, writing and copying files in folders that untrusted code may have touched.

The grader runs as root in batch grading and on Gradescope. A submission (or a student
process during its run) can plant a symbolic link, a hard link or a FIFO where the grader
expects a plain file, or swap a folder for a link between two steps. Everything here
works on directory descriptors opened with O_NOFOLLOW, accepts regular files only, and
writes through a fresh temporary file that os.replace() puts in place: a planted link
is replaced, never followed.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO never blocks


class UnsafePathError(OSError):
    """A path component is a symbolic link or not a folder where a folder was expected."""


def open_folder(path: Path | str, dir_fd: int | None = None) -> int:
    """A descriptor of the folder `path`; fails if its last component is a symbolic link."""
    return os.open(path, DIR_FLAGS, dir_fd=dir_fd)


def make_folders(
    root: Path, relative: Path | str, mode: int = 0o700, *, enforce_mode: bool = False
) -> int:
    """A descriptor of root/relative, created folder by folder with `mode` where missing
    (and set on existing ones too if `enforce_mode`).

    `root` is the caller's (trusted) path; below it no component may be a symbolic link.
    """
    fd = open_folder(root)
    try:
        for part in Path(relative).parts:
            if part in ("", ".", "..") or os.sep in part:
                raise UnsafePathError(f"unsafe folder name {part!r}")
            try:
                os.mkdir(part, mode, dir_fd=fd)
            except FileExistsError:
                pass
            try:
                child = open_folder(part, dir_fd=fd)
            except OSError as exc:
                raise UnsafePathError(f"{root / relative}: {part} is not a plain folder") from exc
            os.close(fd)
            fd = child
            if enforce_mode:
                os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_file(
    folder: Path | int, name: str, data: bytes, mode: int = 0o600, *, durable: bool = False
) -> None:
    """Put `data` at folder/name: a new file, then a rename over whatever was there.

    `folder` is a path (its last component must not be a link) or an open folder fd.
    `mode` is set with fchmod, whatever the umask; `durable` syncs the data before the rename.
    """
    if os.sep in name or name in ("", ".", ".."):
        raise UnsafePathError(f"unsafe file name {name!r}")
    fd = folder if isinstance(folder, int) else open_folder(folder)
    try:
        temporary = f".{name}.{secrets.token_hex(6)}.part"
        out = os.open(
            temporary,
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
            0o600,
            dir_fd=fd,
        )
        try:
            os.fchmod(out, mode)
            view = memoryview(data)
            while view:
                view = view[os.write(out, view) :]
            if durable:
                os.fsync(out)
        except BaseException:
            os.close(out)
            os.unlink(temporary, dir_fd=fd)
            raise
        os.close(out)
        try:
            os.replace(temporary, name, src_dir_fd=fd, dst_dir_fd=fd)
        except BaseException:
            os.unlink(temporary, dir_fd=fd)
            raise
    finally:
        if not isinstance(folder, int):
            os.close(fd)


def remove_file(folder: Path | int, name: str) -> None:
    """Delete folder/name if it is anything but a folder (a link is removed, not followed)."""
    fd = folder if isinstance(folder, int) else open_folder(folder)
    try:
        st = os.stat(name, dir_fd=fd, follow_symlinks=False)
        if not stat.S_ISDIR(st.st_mode):
            os.unlink(name, dir_fd=fd)
    except FileNotFoundError:
        pass
    finally:
        if not isinstance(folder, int):
            os.close(fd)


def read_regular(folder_fd: int, name: str, max_bytes: int) -> bytes | None:
    """The bytes of folder/name if it is a regular file with one link and at most
    `max_bytes`; None for anything else (missing, a link, a FIFO, a device, too large)."""
    try:
        fd = os.open(name, READ_FLAGS, dir_fd=folder_fd)
    except OSError:
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_size > max_bytes:
            return None
        chunks, left = [], max_bytes + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
        return data if len(data) <= max_bytes else None
    finally:
        os.close(fd)


def copy_tree(
    source: Path,
    target: Path,
    max_bytes: int,
    *,
    skip_hidden_folders: bool = True,
    max_files: int = 5000,
    max_depth: int = 32,
) -> None:
    """Copy the folder `source` into the new folder `target` (mode 0700): plain folders and
    regular files with a single link only, up to `max_bytes` and `max_files` in all.

    Symbolic links, hard-linked files, FIFOs, sockets and devices are left out, and the
    walk never follows a link. Files are created 0600, whatever the umask. Depth first,
    so that only the folders on the current path are open (at most `max_depth` + 1).
    """
    budget = {"bytes": max_bytes, "files": max_files}
    os.mkdir(target, 0o700)
    target_fd = open_folder(target)
    try:
        os.fchmod(target_fd, 0o700)
        source_fd = open_folder(source)
        try:
            _copy_folder(source_fd, target_fd, budget, skip_hidden_folders, max_depth)
        finally:
            os.close(source_fd)
    finally:
        os.close(target_fd)


def _copy_folder(src: int, dst: int, budget: dict, skip_hidden: bool, depth: int) -> None:
    try:
        names = sorted(os.listdir(src))
    except OSError:
        return
    for name in names:
        try:
            st = os.stat(name, dir_fd=src, follow_symlinks=False)
        except OSError:
            continue
        if stat.S_ISDIR(st.st_mode):
            if depth <= 0 or (skip_hidden and (name.startswith(".") or name == "__pycache__")):
                continue
            try:
                sub = open_folder(name, dir_fd=src)
            except OSError:
                continue
            try:
                os.mkdir(name, 0o700, dir_fd=dst)
                sub_target = open_folder(name, dir_fd=dst)
                try:
                    _copy_folder(sub, sub_target, budget, skip_hidden, depth - 1)
                finally:
                    os.close(sub_target)
            finally:
                os.close(sub)
        elif stat.S_ISREG(st.st_mode) and st.st_nlink == 1 and budget["files"] > 0:
            data = read_regular(src, name, budget["bytes"])
            if data is None:
                continue
            budget["bytes"] -= len(data)
            budget["files"] -= 1
            write_file(dst, name, data)


def remove_tree(path: Path | str) -> None:
    """Remove the folder `path` and everything in it, never following a link; errors are
    ignored (what cannot be removed stays).

    Iterative, with one folder descriptor open at a time: a student can make a tree
    deeper than Python's recursion limit (shutil.rmtree recurses before 3.12) and than
    PATH_MAX, and its removal must not fail the grader. Call it once no process can
    still write in the tree (the student's processes are dead): it climbs back with "..".
    """
    top = os.fspath(path)
    try:
        fd = open_folder(top)
    except OSError:
        return
    names: list[str] = []  # the folders entered below `top`, in order
    stuck: set[tuple[int, int]] = set()  # folders that could not be emptied
    while True:
        child = _empty_files(fd, stuck)
        if child is not None:
            name, key = child
            try:
                inner = open_folder(name, dir_fd=fd)
            except OSError:
                stuck.add(key)
                continue
            os.close(fd)
            fd = inner
            names.append(name)
            continue
        if not names:
            os.close(fd)
            try:
                os.rmdir(top)
            except OSError:
                pass
            return
        st = os.fstat(fd)
        parent = os.open("..", os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC, dir_fd=fd)
        os.close(fd)
        fd, name = parent, names.pop()
        try:
            os.rmdir(name, dir_fd=fd)
        except OSError:
            stuck.add((st.st_dev, st.st_ino))


def _empty_files(fd: int, stuck: set[tuple[int, int]]) -> tuple[str, tuple[int, int]] | None:
    """Unlink every non-folder entry of the folder `fd`; return a subfolder still to empty
    (its name and (device, inode), not in `stuck`), or None when none is left."""
    try:
        with os.scandir(fd) as listing:
            entries = [(e.name, e.is_dir(follow_symlinks=False), e.inode()) for e in listing]
    except OSError:
        return None
    dev = os.fstat(fd).st_dev
    for name, is_folder, inode in entries:
        if is_folder:
            if (dev, inode) not in stuck:
                return name, (dev, inode)
            continue
        try:
            os.unlink(name, dir_fd=fd)
        except OSError:
            pass
    return None


def tree_files(root: Path, max_entries: int = 100_000) -> list[Path]:
    """Every entry under the folder `root` that is not a folder (links included, never
    followed), sorted; at most `max_entries`. An explicit stack: no recursion limit."""
    found: list[Path] = []
    stack = [os.fspath(root)]
    while stack and len(found) < max_entries:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
                    else:
                        found.append(Path(entry.path))
        except OSError:
            continue
    return sorted(found[:max_entries])
