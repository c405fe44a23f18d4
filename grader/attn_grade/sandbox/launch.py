"""Start one student process, and end it with everything it started.

Two ways, one interface (`Child`):
    zygote  fork from the warm zygote (numpy and matplotlib already imported); the default
    spawn   a fresh `python -I -B -u bootstrap.py CONFIG` (the baseline, and the fallback)

As root, every child gets its own uid and gid (`Identity`), so the kernel keeps
it away from the grader, from other students' runs and from files that are not
world-readable, and so "every process of that uid" is exactly what the run
started. Run as a normal user, the child keeps the user's uid (see SECURITY.md).
"""

from __future__ import annotations

import atexit
import fcntl
import os
import random
import select
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
BOOTSTRAP = HERE / "bootstrap.py"
ZYGOTE = HERE / "zygote.py"
UID_BASE = int(os.environ.get("ATTN_GRADE_SANDBOX_UID_BASE", "1500000000"))
UID_COUNT = 4096  # sandbox uids are UID_BASE .. UID_BASE + UID_COUNT - 1


class SandboxError(Exception):
    """The sandbox itself failed (not the student's code): a grader error."""


# One lock file per sandbox uid in use, machine-wide: forked batch workers and other
# graders on the same machine never hand out the same uid at the same time.
UID_LOCKS = Path(os.environ.get("ATTN_GRADE_SANDBOX_UID_LOCKS", "/run/attn-grade-uids"))


@dataclass(frozen=True)
class Identity:
    uid: int
    gid: int
    lock_fd: int = -1  # an flock held on UID_LOCKS/<uid> while the run lasts


def new_identity() -> Identity | None:
    """A uid and gid of its own for one run when the grader is root; None otherwise.

    The uid is reserved with an flock on UID_LOCKS/<uid>, held until release_identity():
    a module-level counter alone would repeat itself in every forked worker.
    """
    if os.geteuid() != 0:
        return None
    UID_LOCKS.mkdir(mode=0o700, parents=True, exist_ok=True)
    start = random.randrange(UID_COUNT)  # rarely the uid of a recent run (its zombies, say)
    for offset in range(UID_COUNT):
        uid = UID_BASE + (start + offset) % UID_COUNT
        fd = os.open(UID_LOCKS / str(uid), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        identity = Identity(uid, uid, fd)
        kill_uid(identity)  # nothing a crashed earlier holder left behind may live on
        return identity
    raise SandboxError(f"no free sandbox uid in {UID_LOCKS}")


def release_identity(identity: Identity) -> None:
    """Give the uid back (after kill_uid and remove_leftovers)."""
    if identity.lock_fd >= 0:
        os.close(identity.lock_fd)


def as_uid(identity: Identity, action) -> None:
    """Run `action()` in a forked helper that has become `identity`; wait for it."""
    helper = os.fork()
    if helper == 0:
        try:
            os.setgroups([])
            os.setresgid(identity.gid, identity.gid, identity.gid)
            os.setresuid(identity.uid, identity.uid, identity.uid)
            action()
        finally:
            os._exit(0)
    os.waitpid(helper, 0)


def kill_uid(identity: Identity) -> None:
    """Kill every process of `identity` from a helper running as that uid (see zygote.py)."""

    def kill_all() -> None:
        os.kill(-1, signal.SIGKILL)
        os.kill(-1, signal.SIGKILL)

    as_uid(identity, kill_all)


# World-writable folders every student process gets a fresh tmpfs of its own for (when
# mount namespaces are allowed; the rest of the file system is read-only for it).
TEMPORARY_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/run/lock", "/dev/mqueue")
# Folders no student process may read, as root: the reference, the submissions, the results.
PRIVATE_PATHS: set[str] = set()


def keep_private(*paths: Path | str) -> None:
    """As root: `paths` (folders or files) become unreadable for other uids (chmod o-rwx,
    through a descriptor, never following a link), and each student process sees an empty
    folder in their place when mount namespaces are allowed."""
    for path in paths:
        try:
            real = os.path.realpath(path)
            st = os.lstat(real)
        except OSError:
            continue
        if os.geteuid() == 0:
            _remove_other_permissions(real)
        if stat.S_ISDIR(st.st_mode):
            PRIVATE_PATHS.add(real)


def _remove_other_permissions(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return
    try:
        st = os.fstat(fd)
        if (stat.S_ISDIR(st.st_mode) or stat.S_ISREG(st.st_mode)) and st.st_mode & 0o007:
            os.fchmod(fd, stat.S_IMODE(st.st_mode) & ~0o007)
    finally:
        os.close(fd)


_namespaces: bool | None = None
_probe_lock = threading.Lock()


def namespaces_allowed() -> bool:
    """Can a student process have mount and IPC namespaces of its own? (Root with
    CAP_SYS_ADMIN: yes; Docker's default profile: no.) ATTN_GRADE_NAMESPACES=off says no."""
    global _namespaces
    if os.environ.get("ATTN_GRADE_NAMESPACES", "on") == "off" or os.geteuid() != 0:
        return False
    with _probe_lock:
        if _namespaces is None:
            import ctypes

            unshare = ctypes.CDLL(None, use_errno=True).unshare  # resolved before the fork
            pid = os.fork()
            if pid == 0:
                os._exit(0 if unshare(0x00020000 | 0x08000000) == 0 else 1)
            _namespaces = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 0
    return _namespaces


def isolation_plan(run_dir: Path, tmpfs_bytes: int, full: bool = True) -> dict:
    """What bootstrap._isolate does for one student process (see its docstring). Not `full`
    (namespaces not allowed, or turned off): only bind a Python installation the sandbox
    uid could not read; the child exits 73 if even that is refused."""
    plan = hidden_ancestors(python_folders())
    writable = [p for p in TEMPORARY_FOLDERS if _world_writable(p)] if full else []
    return {
        "full": full,
        "run_dir": os.path.realpath(run_dir),
        "keep": sorted({folder for folder, _ in plan} | set(_real_folders(python_folders()))),
        "ancestors": sorted({ancestor for _, ancestor in plan}),
        "writable": writable,
        "conceal": [p for p in sorted(PRIVATE_PATHS) if os.path.isdir(p)] if full else [],
        "tmpfs_bytes": tmpfs_bytes // max(1, len(writable)),  # the disk limit, shared
    }


def _real_folders(paths: list[str]) -> list[str]:
    return [os.path.realpath(p) for p in paths if os.path.isdir(p)]


def _world_writable(path: str) -> bool:
    try:
        st = os.lstat(path)
    except OSError:
        return False
    return stat.S_ISDIR(st.st_mode) and bool(st.st_mode & 0o002)


def remove_leftovers(identity: Identity, isolated: bool) -> None:
    """After a run (every process of the uid is dead): delete what the uid left behind.

    With namespaces its files lived in tmpfs that are gone and its IPC objects died with
    its IPC namespace; the usual folders are swept anyway. Without them, every
    world-writable folder of the machine (found once per grader process) is swept and
    SysV IPC objects of the uid are removed."""
    folders = TEMPORARY_FOLDERS if isolated else world_writable_folders()
    remove_files_of(identity, folders)
    if not isolated:
        remove_ipc_of(identity)
    clear_keys_of(identity)


KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)  # syscall numbers


def clear_keys_of(identity: Identity) -> None:
    """Empty the uid's kernel keyrings (keyctl): its user, user-session and persistent
    keyrings outlive its processes (the persistent one for days), and the next run of
    the same uid, another student's, could read what is left there."""
    if KEYCTL is None:
        return
    import ctypes

    syscall = ctypes.CDLL(None, use_errno=True).syscall  # resolved before the fork
    get_persistent, clear, invalidate = 22, 7, 21
    user, user_session, process = -4, -5, -2

    def clear_all() -> None:
        for ring in (user, user_session):
            syscall(KEYCTL, clear, ring)
        persistent = syscall(KEYCTL, get_persistent, -1, process)
        if persistent > 0:
            syscall(KEYCTL, clear, persistent)
            syscall(KEYCTL, invalidate, persistent)

    as_uid(identity, clear_all)


_world_writable_cache: list[str] | None = None


def world_writable_folders(limit: int = 500_000) -> list[str]:
    """Every world-writable folder of the machine outside /proc and /sys (cached).

    An explicit stack of os.scandir calls, never following links: a tree deeper than
    Python's recursion limit (os.walk recurses before 3.12) must not fail the grader,
    and at most `limit` folders are looked at."""
    global _world_writable_cache
    if _world_writable_cache is None:
        found, seen = set(TEMPORARY_FOLDERS), 0
        stack = ["/"]
        while stack and seen <= limit:
            parent = stack.pop()
            try:
                with os.scandir(parent) as entries:
                    folders = [e.path for e in entries if e.is_dir(follow_symlinks=False)]
            except OSError:
                continue
            if parent == "/":
                folders = [f for f in folders if f not in ("/proc", "/sys")]
            seen += len(folders)
            found.update(f for f in folders if _world_writable(f))
            stack += folders
        _world_writable_cache = sorted(p for p in found if _world_writable(p))
    return _world_writable_cache


def remove_ipc_of(identity: Identity) -> None:
    """Remove the SysV shared memory, semaphores and message queues the uid owns or made."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    removers = {"shm": libc.shmctl, "sem": libc.semctl, "msg": libc.msgctl}
    for kind, remove in removers.items():
        try:
            lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        if not lines:
            continue
        header = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(header, line.split()))
            owners = {int(row.get("uid", -1)), int(row.get("cuid", -1))}
            if identity.uid not in owners:
                continue
            object_id = int(line.split()[1])  # shmid, semid or msqid
            if kind == "sem":
                remove(object_id, 0, ipc_rmid, None)
            else:
                remove(object_id, ipc_rmid, None)


def remove_files_of(identity: Identity, folders=TEMPORARY_FOLDERS) -> None:
    """Delete what the run's uid left in the world-writable folders (never following a link)."""
    from attn_grade.safe_files import remove_tree

    for folder in folders:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != identity.uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    remove_tree(entry.path)  # as deep as the student made it
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


def hidden_ancestors(paths: list[str]) -> list[list[str]]:
    """[folder, ancestor] for each folder the sandbox uid could not reach: `ancestor` is the
    highest one that others cannot enter. bootstrap._expose binds such folders back."""
    plan = []
    for folder in sorted({os.path.realpath(p) for p in paths if os.path.isdir(p)}):
        parts = Path(folder).parts
        for n in range(2, len(parts) + 1):
            ancestor = str(Path(*parts[:n]))
            if not os.stat(ancestor).st_mode & 0o001:
                plan.append([folder, ancestor])
                break
    # a folder inside another one already exposed needs nothing more
    exposed = [f for f, _ in plan]
    return [
        [f, a] for f, a in plan if not any(f != e and f.startswith(e + os.sep) for e in exposed)
    ]


def python_folders() -> list[str]:
    """What the student's Python reads: the interpreter's prefixes and sys.path (not the grader)."""
    import sysconfig

    folders = {sys.prefix, sys.base_prefix, sys.exec_prefix, sysconfig.get_paths()["stdlib"]}
    folders |= {p for p in sys.path if p and os.path.isdir(p) and "site-packages" in p}
    return sorted(folders)


def private_reference() -> None:
    """As root: the reference solutions' folders (and a clone's git history and tests,
    which hold them too) and the labs' frozen expectations become unreadable for other
    uids, and hidden from student processes (keep_private)."""
    import attn_grade
    from attn_grade.reference import kit_private_paths

    roots = [*kit_private_paths(), Path.cwd() / "solutions"]  # .git, solutions/, tests/
    if os.environ.get("ATTN_GRADE_SOLUTIONS"):
        roots.append(Path(os.environ["ATTN_GRADE_SOLUTIONS"]))
    labs = Path(attn_grade.__file__).parent / "labs"
    keep_private(*roots, *labs.glob("*/public.npz"))
    PRIVATE_PATHS.add(os.path.realpath(labs))  # hidden only: other users may run `check`


class Child:
    """One running student process, as the runner sees it."""

    def fileno(self) -> int:  # readable once the process has ended
        raise NotImplementedError

    def kill_all(self) -> None:  # the process and everything it started
        raise NotImplementedError

    def wait(self) -> int:  # exit code, or -signal
        raise NotImplementedError


# -- spawn: a fresh interpreter ---------------------------------------------------
class SpawnedChild(Child):
    def __init__(
        self,
        config: Path,
        cwd: Path,
        env: dict,
        result_w: int,
        output_w: int,
        identity: Identity | None,
    ):
        self.identity = identity
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-u", str(BOOTSTRAP), str(config)],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=output_w,
            stderr=output_w,
            pass_fds=(result_w,),
            start_new_session=True,
        )
        self.pidfd = os.pidfd_open(self.process.pid)

    def fileno(self) -> int:
        return self.pidfd

    def kill_all(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self.process.kill()
        self.process.wait()
        if self.identity:
            kill_uid(self.identity)

    def wait(self) -> int:
        code = self.process.wait()
        if self.pidfd >= 0:
            os.close(self.pidfd)
            self.pidfd = -1
        return code


# -- zygote: a fork of a warm, trusted server ---------------------------------------
class ForkedChild(Child):
    def __init__(self, conn: socket.socket, timeout: float):
        self.conn = conn
        self.status: int | None = None
        self._received = b""  # what the zygote sent beyond the line read so far
        self.pid = int(self._line(timeout, b"P"))

    def _line(self, timeout: float, kind: bytes) -> bytes:
        """The next line, `kind` + digits. A child that ends at once has its b"P...\n"
        and b"X...\n" arrive in one read: the second line stays for the next call."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self._received:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.conn], [], [], left)[0]:
                raise SandboxError("the zygote did not answer")
            chunk = self.conn.recv(64)
            if not chunk:
                raise SandboxError("the zygote closed the connection")
            self._received += chunk
        line, self._received = self._received.split(b"\n", 1)
        if not line.startswith(kind) or not line[1:].isdigit():
            raise SandboxError(f"the zygote sent {line[:40]!r}")
        return line[1:]

    def fileno(self) -> int:
        return self.conn.fileno()

    def kill_all(self) -> None:
        if self.status is None:
            try:
                self.conn.sendall(b"K")
            except OSError:
                pass

    def wait(self) -> int:
        """The zygote reports the exit only once every process of the run is gone."""
        if self.status is None:
            try:
                self.status = int(self._line(60.0, b"X"))
            except SandboxError:
                self.status = -1  # the zygote died: its children died with it (PDEATHSIG)
            finally:
                self.conn.close()
        if self.status == -1:
            return -signal.SIGKILL
        return os.waitstatus_to_exitcode(self.status)


class Zygote:
    """The grader's connection to its zygote, started on first use, one per process."""

    _shared: Zygote | None = None
    _lock = threading.Lock()

    @classmethod
    def shared(cls, env: dict, startup_limit: float) -> Zygote:
        with cls._lock:
            zygote = cls._shared
            if zygote is None or not zygote.alive():
                cls._shared = zygote = Zygote(env, startup_limit)
            return zygote

    def __init__(self, env: dict, startup_limit: float):
        self.owner = os.getpid()
        self.control, theirs = socket.socketpair()
        self.log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-u", str(ZYGOTE), str(theirs.fileno())],
            cwd="/",
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=self.log,
            pass_fds=(theirs.fileno(),),
            start_new_session=True,
        )
        theirs.close()
        self.send_lock = threading.Lock()
        ready = select.select([self.control], [], [], startup_limit)[0]
        if not ready or self.control.recv(1) != b"R":
            self.process.kill()
            self.process.wait()
            self.log.seek(0)
            raise SandboxError("the zygote did not start: " + self.log.read()[-2000:].decode())
        atexit.register(self.close)

    def alive(self) -> bool:
        return self.owner == os.getpid() and self.process.poll() is None

    def spawn(self, request: dict, result_w: int, output_w: int, timeout: float) -> ForkedChild:
        import json

        mine, theirs = socket.socketpair()
        try:
            with self.send_lock:
                socket.send_fds(
                    self.control,
                    [json.dumps(request).encode("utf-8")],
                    [theirs.fileno(), result_w, output_w],
                )
        except OSError as exc:
            mine.close()
            raise SandboxError(f"the zygote is gone: {exc}") from exc
        finally:
            theirs.close()
        try:
            return ForkedChild(mine, timeout)
        except SandboxError:
            mine.close()
            raise

    def close(self) -> None:
        if self.owner != os.getpid():
            return
        self.control.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_child(
    mode: str,
    config: Path,
    cwd: Path,
    env: dict,
    result_w: int,
    output_w: int,
    identity: Identity | None,
    startup_limit: float,
) -> Child:
    if mode == "spawn":
        return SpawnedChild(config, cwd, env, result_w, output_w, identity)
    zygote = Zygote.shared(_zygote_env(env), startup_limit)
    request = {
        "config": str(config),
        "cwd": str(cwd),
        "env": env,
        "identity": [identity.uid, identity.gid] if identity else None,
    }
    try:
        return zygote.spawn(request, result_w, output_w, startup_limit)
    except SandboxError:
        if zygote.alive():
            raise
        # the zygote died (a student of a local check can kill it): one fresh try
        zygote = Zygote.shared(_zygote_env(env), startup_limit)
        return zygote.spawn(request, result_w, output_w, startup_limit)


def _zygote_env(child_env: dict) -> dict:
    """The zygote imports matplotlib with the grader's own config and font cache."""
    env = {k: v for k, v in child_env.items() if k not in ("HOME", "TMPDIR")}
    for name in ("HOME", "MPLCONFIGDIR", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env
