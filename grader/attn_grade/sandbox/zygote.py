"""The zygote: a trusted fork server that has already imported numpy and matplotlib.

Started once per grader process as `python -I -B -u zygote.py CONTROL_FD` (see
zygote_client.py). It never runs student code and never sees a test's data: a
request names only a config file, a working folder, an environment and the
run's sandbox identity. For each request it forks one fresh child, which
closes every descriptor it does not need, starts a new session and hands over
to bootstrap.start() (rlimits, uid drop, PDEATHSIG, sys.path, then the calls).
Each student process is therefore a fresh copy of a process that never ran
student code; nothing of one run survives into another.

The zygote is a child subreaper: a student's daemon (double fork, setsid) is
re-parented here when its parent dies, and swept when any run ends. As root,
every run has its own uid, and a run ends only when no process of that uid is
left.

Control socket (from the grader): sendmsg(JSON request, fds=[conn, result_w, output_w]).
Per-run `conn` socket: zygote -> grader b"P<pid>\\n", then b"X<wait status>\\n";
grader -> zygote b"K" kills the run. The zygote exits when the control socket closes.
"""

import json
import os
import selectors
import signal
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER = 4, 36


def _prctl(option, value):
    try:
        import ctypes

        ctypes.CDLL(None).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _warm_up():
    """Import and exercise what a lab's code and visualize.py use, once, for every child."""
    import io

    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot  # noqa: F401 - students may use pyplot
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(4, 3), layout="constrained")
    FigureCanvasAgg(figure)
    ax = figure.add_subplot()
    image = ax.imshow(np.eye(3), cmap="viridis")
    ax.set_xticks(range(3), ["a", "b", "c"], rotation=60)
    ax.set_title("warm-up")
    figure.colorbar(image, ax=ax)
    figure.savefig(io.BytesIO(), format="png", dpi=50)


def _orphans(me, runs):
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in runs:
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            found.append(int(name))
    return found


def _become(identity):
    uid, gid = identity
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def _alive(uid):
    """Is any process of `uid` still there (zombies count until reaped)?"""
    wanted = b"\nUid:\t%d\t" % uid
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/status", "rb") as f:
                    if wanted in f.read(1024):
                        return True
            except OSError:
                pass
    return False


class Zygote:
    def __init__(self, control):
        self.control = control
        self.me = os.getpid()
        self.runs = {}  # pid -> (conn, identity)
        self.ended = []  # (pid, wait status) of runs reaped but not yet reported
        self.selector = selectors.DefaultSelector()
        self.wakeup_r, self.wakeup_w = os.pipe()
        os.set_blocking(self.wakeup_w, False)
        signal.set_wakeup_fd(self.wakeup_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        self.selector.register(control, selectors.EVENT_READ, "control")
        self.selector.register(self.wakeup_r, selectors.EVENT_READ, "chld")

    def loop(self):
        self.control.sendall(b"R")
        while True:
            for key, _ in self.selector.select(1.0):
                if key.data == "control":
                    if not self.request():
                        return
                elif key.data == "chld":
                    os.read(self.wakeup_r, 4096)
                else:
                    self.command(key.data)
            self.reap()
            if os.getppid() == 1:  # the grader is gone
                return

    # -- requests ------------------------------------------------------------
    def request(self):
        try:
            data, fds, _flags, _addr = socket.recv_fds(self.control, 65536, 3)
        except OSError:
            return False
        if not data:
            return False
        if len(fds) != 3:
            for fd in fds:
                os.close(fd)
            return True
        conn = socket.socket(fileno=fds[0])
        request = json.loads(data.decode("utf-8"))
        identity = tuple(request["identity"]) if request.get("identity") else None
        pid = os.fork()
        if pid == 0:
            self.child(request, fds[1], fds[2])
        os.close(fds[1])
        os.close(fds[2])
        self.runs[pid] = (conn, identity)
        conn.sendall(b"P%d\n" % pid)
        self.selector.register(conn, selectors.EVENT_READ, pid)
        return True

    def child(self, request, result_w, output_w):
        """In the fresh child: nothing of the zygote's stays open, then the bootstrap."""
        exit_now = os._exit
        try:
            os.setsid()
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            null = os.open(os.devnull, os.O_RDONLY)
            os.dup2(null, 0)
            os.dup2(output_w, 1)
            os.dup2(output_w, 2)
            os.dup2(result_w, 3)
            os.closerange(4, 65536)
            os.chdir(request["cwd"])
            os.environ.clear()
            os.environ.update(request["env"])
            import tempfile

            tempfile.tempdir = None
            sys.argv = ["bootstrap.py"]
            import bootstrap

            bootstrap.start(request["config"], self.me, result_fd=3)
        finally:
            exit_now(72)

    def command(self, pid):
        conn, identity = self.runs[pid]
        try:
            data = conn.recv(16)
        except OSError:
            data = b""
        if not data or b"K" in data:
            self.kill(pid, identity)  # reaped and reported by reap()
        if not data:
            self.selector.unregister(conn)

    # -- ends of runs ----------------------------------------------------------
    def kill(self, pid, identity):
        """Kill a run whose main process is not reaped yet (its pid cannot be reused)."""
        for send in (os.killpg, os.kill):
            try:
                send(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def kill_uid(self, identity):
        """As root: kill every process of the run's uid, setsid daemons too.

        The killer runs as that uid, so kill(-1) reaches exactly the run's processes.
        After one full pass every one of them has SIGKILL pending, and a process with a
        fatal signal pending cannot fork: the second pass is for safety. Meanwhile the
        zygote reaps the orphans re-parented to it."""
        killer = os.fork()
        if killer == 0:
            try:
                _become(identity)
                os.kill(-1, signal.SIGKILL)
                os.kill(-1, signal.SIGKILL)
            finally:
                os._exit(0)
        while self.reap_some(until=killer) is None:
            time.sleep(0.0005)
        deadline = time.monotonic() + 2.0
        while _alive(identity[0]) and time.monotonic() < deadline:
            self.reap_some()
            time.sleep(0.001)

    def sweep(self):
        """Kill every orphan re-parented here (none is ever legitimate), until none is left."""
        for _ in range(200):
            orphans = _orphans(self.me, self.runs)
            if not orphans:
                return
            for pid in orphans:
                self.kill(pid, None)
            self.reap_some()
            time.sleep(0.001)

    def reap_some(self, until=None):
        """Reap every child that ended; return `until`'s status once it has ended."""
        found = None
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return found
            if pid == 0:
                return found
            if pid == until:
                found = status
            elif pid in self.runs:
                self.ended.append((pid, status))

    def reap(self):
        self.reap_some()
        while self.ended:
            pid, status = self.ended.pop(0)
            conn, identity = self.runs.pop(pid)
            try:
                os.killpg(pid, signal.SIGKILL)  # its group outlives it; the number stays reserved
            except (ProcessLookupError, PermissionError):
                pass
            if identity:
                self.kill_uid(identity)
            self.sweep()
            try:
                self.selector.unregister(conn)
            except (KeyError, ValueError):
                pass
            try:
                conn.sendall(b"X%d\n" % status)
            except OSError:
                pass
            conn.close()

    def shutdown(self):
        for pid, (_conn, identity) in list(self.runs.items()):
            self.kill(pid, identity)
            if identity:
                self.kill_uid(identity)
        self.sweep()


def main():
    control = socket.socket(fileno=int(sys.argv[1]))
    _prctl(PR_SET_DUMPABLE, 0)  # no other process of this uid reads requests from our memory
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _warm_up()
    sys.path.insert(0, HERE)
    import bootstrap  # noqa: F401 - imported once here, before any child exists

    sys.path.remove(HERE)
    zygote = Zygote(control)
    try:
        zygote.loop()
    finally:
        zygote.shutdown()
        os._exit(0)


if __name__ == "__main__":
    main()
