"""Trusted start of a student process.

Either `python -I -B -u bootstrap.py CONFIG_JSON` (spawn mode), or `start()`
called in a child just forked from the zygote (zygote.py), which already
imported numpy and matplotlib. It imports nothing from the grader. Before any
student code runs it sets the resource limits, drops to the sandbox uid when
the grader is root, asks the kernel to kill it when its parent dies, drops the
grader's folder from sys.path and puts the submission's folder there instead.
Then it serves the calls listed in the config, one by one, and writes each
result to a private pipe as length-prefixed frames:

    b"J" + u32 length + UTF-8 JSON     an event (ready, start, result)
    b"A" + u32 length + .npy bytes      one array (never a pickle)

Nothing here is trusted by the grader: the student's code can change any of it
at run time, so the parent validates every frame it reads.
"""

import json
import os
import resource
import signal
import struct
import sys
import traceback


def _limit_resources(limits):
    for name, value in limits.items():
        which = getattr(resource, name)
        soft, hard = resource.getrlimit(which)
        new = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(which, (new, new))


def _isolate(plan):
    """As root, before the uid drop: a mount and IPC namespace of this process (and what it
    starts) only, so that nothing the run does outlives it or reaches other runs.

    - every mount is read-only and nosuid: the uid can write only in its run folder and
      in fresh tmpfs mounted over the world-writable folders (/tmp, /dev/shm, ...), which
      vanish with the namespace; SysV IPC objects and POSIX queues vanish with the IPC
      namespace;
    - the private paths (reference, submissions, results) are covered by an empty folder
      only root may enter; a private ancestor of the Python installation (e.g. /root)
      by an empty one, with the installation bound back read-only;
    - /proc is a new instance with hidepid=noaccess: nothing of another uid's process (the
      grader, other students' runs: command lines, environment, folders) can be read.

    A plan that is not `full` only binds Python back. Returns False when namespaces are
    not allowed (no CAP_SYS_ADMIN): the grader then cleans up after the run instead (see
    SECURITY.md).
    """
    if not plan:
        return False
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ms_rdonly, ms_nosuid, ms_nodev, ms_noexec, ms_remount, ms_bind = 1, 2, 4, 8, 32, 4096
    ms_rec, ms_private = 16384, 1 << 18

    def mount(source, target, fstype, flags, data=None):
        if libc.mount(source, target.encode(), fstype, flags, data) != 0:
            raise OSError(ctypes.get_errno(), f"mount {target}")

    cwd, full = os.getcwd(), plan["full"]
    if libc.unshare(0x00020000 | (0x08000000 if full else 0)) != 0:  # CLONE_NEWNS, NEWIPC
        return False
    mount(None, "/", None, ms_rec | ms_private)
    # opened in the new namespace (a bind's source must be one of its mounts), before any
    # folder is covered
    folders = plan["keep"] + ([plan["run_dir"]] if full else [])
    keep = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in folders}
    # struct mount_attr {attr_set = RDONLY | NOSUID, attr_clr, propagation, userns_fd}
    attr = ctypes.create_string_buffer(struct.pack("QQQQ", 0x1 | 0x2, 0, 0, 0))
    if full and libc.syscall(442, -100, b"/", 0x8000, attr, 32) != 0:  # mount_setattr
        _read_only_one_by_one(mount, ms_remount | ms_bind | ms_rdonly | ms_nosuid)  # < 5.12
    size = int(plan["tmpfs_bytes"])
    covers = [(p, b"mode=1777,size=%d,nr_inodes=4096" % size) for p in plan["writable"]]
    covers += [(p, b"mode=0700,size=4k") for p in plan["conceal"]]
    covers += [(p, b"mode=0755,size=1m") for p in plan["ancestors"]]
    covered = []
    for path, options in sorted(covers, key=lambda c: len(c[0])):
        if any(path == c or path.startswith(c + os.sep) for c in covered):
            continue  # already inside an empty folder
        mount(b"tmpfs", path, b"tmpfs", ms_nosuid | ms_nodev, options)
        covered.append(path)
    for path in sorted(keep, key=len):
        writable = path == plan["run_dir"]
        hidden = any(path == c or path.startswith(c + os.sep) for c in covered)
        if hidden or writable:
            os.makedirs(path, exist_ok=True)
            mount(f"/proc/self/fd/{keep[path]}".encode(), path, None, ms_bind | ms_rec)
            flags = ms_remount | ms_bind | ms_nosuid | ms_nodev | (0 if writable else ms_rdonly)
            mount(None, path, None, flags)
        os.close(keep[path])
    for path in plan["ancestors"] + plan["conceal"]:
        if path in covered:
            mount(None, path, None, ms_remount | ms_rdonly | ms_nosuid | ms_nodev)
    try:
        if full:
            mount(b"proc", "/proc", b"proc", ms_nosuid | ms_nodev | ms_noexec, b"hidepid=noaccess")
    except OSError:
        pass  # a kernel before 5.8 shares /proc's options machine-wide: leave it
    os.chdir(cwd)
    return True


def _read_only_one_by_one(mount, flags):
    """Every mount read-only, one remount each (kernels without mount_setattr)."""
    with open("/proc/self/mountinfo", encoding="utf-8") as f:
        points = [line.split()[4] for line in f]
    for point in points:
        for escaped, plain in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n")):
            point = point.replace(escaped, plain)
        target = point.replace("\\134", "\\")
        try:
            mount(None, target, None, flags)
        except OSError:
            pass


def _drop_privileges(identity):
    """As root: become the run's own unprivileged uid and gid, with no other groups."""
    if not identity:
        return
    uid, gid = identity
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or os.getgroups() not in ([], [gid]):
        raise RuntimeError("could not drop privileges")


def _die_with_parent(parent):
    """Set after the uid drop: the kernel clears PR_SET_PDEATHSIG when credentials change."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_pdeathsig = 1
        libc.prctl(pr_set_pdeathsig, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the grader kills the group instead
        pass
    if os.getppid() != parent:  # the parent died before the prctl took effect
        os._exit(70)


class Channel:
    def __init__(self, fd):
        self._out = os.fdopen(fd, "wb", buffering=0)

    def _frame(self, kind, payload):
        self._out.write(kind + struct.pack(">I", len(payload)) + payload)

    def event(self, **fields):
        self._frame(b"J", json.dumps(fields).encode("utf-8"))

    def array(self, npy_bytes):
        self._frame(b"A", npy_bytes)


def _where(exc, submission_dir):
    """'attention.py, line 42, in scaled_dot_product_attention' for the deepest student frame."""
    if isinstance(exc, SyntaxError) and exc.filename:
        return f"{os.path.basename(exc.filename)}, line {exc.lineno}"
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if os.path.abspath(f.filename).startswith(submission_dir + os.sep)
    ]
    if not frames:
        return ""
    f = frames[-1]
    return f"{os.path.basename(f.filename)}, line {f.lineno}, in {f.name}"


def _describe(exc):
    text = str(exc) if not isinstance(exc, SyntaxError) else (exc.msg or "invalid syntax")
    return f"{type(exc).__name__}: {text}"[:2000]


def _run_script(channel, index, submission_dir, call):
    """Run <module>.py as __main__ with the call's arguments as sys.argv[1:]."""
    import runpy

    path = os.path.join(submission_dir, call["module"] + ".py")
    sys.argv = [path] + [str(a) for a in call["args"]]
    try:
        runpy.run_path(path, run_name="__main__")
    except SystemExit as exc:
        if exc.code not in (None, 0):
            channel.event(
                event="result",
                call=index,
                status="error",
                exception="SystemExit",
                message=f"exited with status {exc.code}",
                where="",
            )
            return
    except BaseException as exc:  # noqa: BLE001
        channel.event(
            event="result",
            call=index,
            status="error",
            exception=type(exc).__name__,
            message=_describe(exc),
            where=_where(exc, submission_dir),
        )
        return
    channel.event(event="result", call=index, status="ok", n_arrays=0)


def start(config_path, parent, result_fd=None):
    """Set up this fresh process, then serve the config's calls. Never returns."""
    try:
        with open(config_path, encoding="utf-8") as f:
            config = json.load(f)
        _limit_resources(config["limits"])
        os.nice(config.get("nice", 0))
        plan = config.get("isolate")
        try:
            isolated = _isolate(plan)
        except OSError:
            os._exit(74)  # the grader reports: the mount namespace could not be set up
        if plan and plan["ancestors"] and not isolated:
            os._exit(73)  # the grader reports: Python is not readable by the sandbox user
        _drop_privileges(config.get("identity"))
        _die_with_parent(parent)
        if result_fd is not None:
            config["result_fd"] = result_fd
        serve(config)
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001 - a child must never return into the zygote's loop
        os._exit(71)
    os._exit(0)


def serve(config):
    channel = Channel(config["result_fd"])

    import io

    import numpy as np

    def to_npy(value):
        buffer = io.BytesIO()
        np.lib.format.write_array(buffer, np.asarray(value), allow_pickle=False)
        return buffer.getvalue()

    def load(spec):
        if isinstance(spec, dict) and "__array__" in spec:
            return np.load(
                os.path.join(config["request_dir"], spec["__array__"]), allow_pickle=False
            )
        if isinstance(spec, dict) and "__dict__" in spec:
            return {k: load(v) for k, v in spec["__dict__"].items()}
        return spec

    submission_dir = os.path.abspath(config["submission_dir"])
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != here]
    sys.path.insert(0, submission_dir)

    modules = {}
    channel.event(event="ready")
    for index, call in enumerate(config["calls"]):
        channel.event(event="start", call=index)
        if call["function"] is None:
            _run_script(channel, index, submission_dir, call)
            continue
        try:
            if call["module"] not in modules:
                channel.event(event="importing", call=index, module=call["module"])
                modules[call["module"]] = __import__(call["module"])
                channel.event(event="imported", call=index)
            module = modules[call["module"]]
            function = getattr(module, call["function"], None)
            if not callable(function):
                channel.event(
                    event="result",
                    call=index,
                    status="missing",
                    message=f"{call['module']}.py has no function {call['function']}",
                )
                continue
            args = [load(a) for a in call["args"]]
            kwargs = {k: load(v) for k, v in call["kwargs"].items()}
            result = function(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - every failure is the student's result
            status = "not-implemented" if isinstance(exc, NotImplementedError) else "error"
            channel.event(
                event="result",
                call=index,
                status=status,
                exception=type(exc).__name__,
                message=_describe(exc),
                where=_where(exc, submission_dir),
            )
            continue
        n_outputs = call["n_outputs"]
        if n_outputs > 1:
            if not isinstance(result, (tuple, list)) or len(result) != n_outputs:
                got = type(result).__name__
                if isinstance(result, (tuple, list)):
                    got = f"a {got} of {len(result)}"
                channel.event(event="result", call=index, status="bad-return", got=got)
                continue
            outputs = list(result)
        else:
            outputs = [result]
        try:
            blobs = [to_npy(out) for out in outputs]
            blobs += [to_npy(args[i]) for i in call["return_positional"]]
            blobs += [to_npy(kwargs[k]) for k in call["return_keyword"]]
        except BaseException as exc:  # noqa: BLE001 - e.g. an object array or None
            channel.event(event="result", call=index, status="bad-value", message=_describe(exc))
            continue
        channel.event(event="result", call=index, status="ok", n_arrays=len(blobs))
        for blob in blobs:
            channel.array(blob)
    channel.event(event="done")


if __name__ == "__main__":
    # numpy first, then sys.path: a numpy.py in the submission cannot shadow it.
    import numpy  # noqa: F401

    start(sys.argv[1], os.getppid())
