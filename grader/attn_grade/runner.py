"""Run student functions in a child process and collect validated results.

The grader's process never imports student code. For each batch of calls it
starts a fresh student process (forked from the warm zygote, or a new
``python -I -B sandbox/bootstrap.py``; see sandbox/launch.py) in a private
temporary folder holding a copy of the submission, with a clean environment and
resource limits, hands it the inputs as .npy files, and reads results back from
a private pipe (see wire.py). As root, the process runs as a uid of its own. A
call that runs past its time limit, or that ends the process, costs only
itself: the process is killed with everything it started, and a fresh one
resumes with the next call. A failure of the sandbox itself raises GraderError,
never a verdict on the student. SECURITY.md describes the threat model.
"""

from __future__ import annotations

import json
import math
import os
import selectors
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attn_grade.errors import AttnGradeError, UsageError
from attn_grade.safe_files import copy_tree, open_folder, read_regular, write_file
from attn_grade.sandbox.launch import (
    Child,
    Identity,
    hidden_ancestors,
    isolation_plan,
    namespaces_allowed,
    new_identity,
    private_reference,
    python_folders,
    release_identity,
    remove_leftovers,
    start_child,
)
from attn_grade.tempdirs import private_tempdir, sweep_orphans
from attn_grade.translation import N_, Sentence, where_sentence
from attn_grade.wire import (
    MAX_ARRAY_BYTES,
    MAX_RUN_BYTES,
    FrameReader,
    ProtocolError,
    ResultLimit,
)

MiB = 1024**2
SUBMISSION_COPY_LIMIT = 50 * MiB  # as submission.MAX_ZIP_BYTES
PASSED_THROUGH_ENV = (
    "PATH",
    "LANG",
    "LC_ALL",
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "SYSTEMROOT",
)


@dataclass(frozen=True)
class Call:
    """One function call for the child: which function, with which arguments."""

    key: str
    module: str
    function: str | None  # None: run <module>.py as a script, args as its command line
    args: list[Any]
    kwargs: dict[str, Any]
    n_outputs: int
    return_positional: tuple[int, ...] = ()  # inputs sent back after the call (was it modified?)
    return_keyword: tuple[str, ...] = ()
    # a probe: an extra call on inputs derived from call `probe_of` (probes.py); it runs after
    # the test calls, and not at all once its function hung or the time budget is spent
    probe_of: str | None = None
    # a speed test (checks/speed.py): also time another function on the same inputs
    timing: dict[str, Any] | None = None
    # a script's output files: their paths in a folder of the run come first in its argv
    produces: tuple[str, ...] = ()


@dataclass
class CallOutcome:
    """What one call produced. status: ok, not-implemented, error, missing, bad-return,
    bad-value, timeout, crashed, protocol, disk, result-limit (the run's results passed
    wire.MAX_RUN_BYTES), or skipped (not run: the time budget was spent)."""

    status: str
    outputs: list[np.ndarray] = field(default_factory=list)
    returned_inputs: list[np.ndarray] = field(default_factory=list)
    message: str = ""
    where: str = ""
    exception: str = ""
    # the grader's own message as data, for a report in another language (translation.py)
    sentence: Sentence | None = None
    # measured by the grader, from the call's start (a speed test's: once its modules are
    # imported) to its result
    wall_seconds: float = 0.0


class GraderError(AttnGradeError):
    """The grader failed on this submission (not the student's code): regrade, don't score 0."""

    exit_code = 3


def _env_number(name: str, default: float, scale: float = 1) -> Any:
    """An instructor's override from the environment, e.g. ATTN_GRADE_MEMORY_MB=512.

    A wrong value is a UsageError (exit code 2), like a wrong option: the instructor's
    setting, to fix before anything is graded, not a failure of the grader (exit 3 says
    "run it again", which would not help).
    """
    value = os.environ.get(name)
    if not value:
        return type(default)(default * scale)
    try:
        number = float(value)
    except ValueError:
        raise UsageError(f"{name}={value!r} is not a number") from None
    if not math.isfinite(number) or number <= 0:
        raise UsageError(f"{name}={value!r} must be a positive number")
    if number * scale < 1 and isinstance(default, int):
        raise UsageError(f"{name}={value!r} is too small")
    return type(default)(number * scale)


def _env_budget() -> float:
    """ATTN_GRADE_TIME_BUDGET: seconds for all of a submission's calls; 0 or off: no budget."""
    value = os.environ.get("ATTN_GRADE_TIME_BUDGET", "")
    if value.strip().lower() in ("0", "off", "none"):
        return 0.0
    return _env_number("ATTN_GRADE_TIME_BUDGET", 1.0)


SANDBOX_MODES = ("zygote", "spawn")


def sandbox_mode(default: str = "zygote") -> str:
    """$ATTN_GRADE_SANDBOX (zygote: fork from a warm process; spawn: a fresh python), or
    `default`; a UsageError for anything else."""
    mode = os.environ.get("ATTN_GRADE_SANDBOX") or default
    if mode not in SANDBOX_MODES:
        raise UsageError(f"ATTN_GRADE_SANDBOX={mode!r}: use zygote or spawn")
    return mode


@dataclass(frozen=True)
class Limits:
    """Limits of one student process. Defaults come from ATTN_GRADE_* variables (SECURITY.md)."""

    time_limit: float = 10.0  # seconds per call (the lab's time_limit; ATTN_GRADE_TIME_LIMIT wins)
    startup_limit: float = field(
        default_factory=lambda: _env_number("ATTN_GRADE_STARTUP_LIMIT", 30.0)
    )
    memory_bytes: int = field(
        default_factory=lambda: _env_number("ATTN_GRADE_MEMORY_MB", 1024, MiB)
    )
    file_bytes: int = field(default_factory=lambda: _env_number("ATTN_GRADE_FILE_MB", 64, MiB))
    disk_bytes: int = field(default_factory=lambda: _env_number("ATTN_GRADE_DISK_MB", 256, MiB))
    output_bytes: int = field(default_factory=lambda: _env_number("ATTN_GRADE_OUTPUT_KB", 32, 1024))
    processes: int = field(default_factory=lambda: _env_number("ATTN_GRADE_PROCESSES", 32))
    open_files: int = field(default_factory=lambda: _env_number("ATTN_GRADE_OPEN_FILES", 256))
    mode: str = field(default_factory=sandbox_mode)  # zygote (warm fork) or spawn (fresh python)
    # seconds for all the calls of one run (ATTN_GRADE_TIME_BUDGET wins); 0: no budget; None:
    # the lab's (grading fills it in), none for run_calls. Never less than one time_limit.
    time_budget: float | None = None

    def __post_init__(self) -> None:
        if os.environ.get("ATTN_GRADE_TIME_LIMIT"):
            object.__setattr__(self, "time_limit", _env_number("ATTN_GRADE_TIME_LIMIT", 10.0))
        if os.environ.get("ATTN_GRADE_TIME_BUDGET"):
            object.__setattr__(self, "time_budget", _env_budget())
        if self.time_budget:
            object.__setattr__(self, "time_budget", max(self.time_budget, self.time_limit))

    def describe(self) -> str:
        return (
            f"{self.time_limit:g} s per test, {self.memory_bytes // MiB} MiB of memory, "
            f"files up to {self.file_bytes // MiB} MiB and {self.disk_bytes // MiB} MiB in all, "
            f"{self.processes} processes"
        )


@dataclass
class RunRecord:
    outcomes: dict[str, CallOutcome]
    output: str  # the student's stdout and stderr, truncated to Limits.output_bytes
    output_truncated: bool
    processes: int  # child processes started (1 unless a call hung or crashed)
    # what scripts wrote at the paths of Call.produces: regular files only, read after
    # every student process is gone; None for a name not written (or not a plain file)
    files: dict[str, bytes | None] = field(default_factory=dict)


def run_calls(
    submission_dir: Path,
    calls: list[Call],
    limits: Limits | None = None,
) -> RunRecord:
    """Run every call in child processes; return one outcome per call key.

    The student's code sees a private copy of `submission_dir`. A script call's
    `produces` names files it writes into a folder of the run; RunRecord.files holds
    what it wrote there. Raises GraderError if the sandbox fails.
    """
    limits = limits or Limits()
    _protect_parent_memory()
    _sweep_orphans_once()
    try:
        with private_tempdir("run") as tmp:
            run_dir = Path(os.path.realpath(tmp))
            session = _Session(run_dir, Path(submission_dir).resolve(), calls, limits)
            try:
                return session.run()
            finally:
                session.close()
    except GraderError:
        raise
    except Exception as exc:  # a bug or a failure of the grader's side, not of the student
        raise GraderError(
            f"grader error while running {Path(submission_dir).name}: "
            f"{type(exc).__name__}: {exc}. This is not a verdict on the submission; grade it again."
        ) from exc


_swept = False


def _sweep_orphans_once() -> None:
    """Remove the temp folders (copies of student code) of graders killed mid-run."""
    global _swept
    if not _swept:
        _swept = True
        sweep_orphans()


def _protect_parent_memory() -> None:
    """A same-user child could read or write the grader's memory through /proc/<pid>/mem."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
        except (OSError, AttributeError):
            pass


class _Session:
    """One run's folder, owned by the grader (as root: root:gid, mode 0750):

        config<N>.json   the grader's, one per student process (root only)
        request/         the inputs, read-only for the run's uid
        work/            its working folder and $HOME, $TMPDIR     (the uid's, 0700)
        submission/      a copy of the submission                  (the uid's, 0700)
        out/             where scripts write their `produces` files (the uid's, 0700)

    The uid cannot rename or replace anything in the top folder, so the grader's later
    reads and the final removal (shutil.rmtree works on folder descriptors) never follow
    a link it planted; nothing is chowned or chmodded once student code has run.
    """

    def __init__(self, tmp: Path, submission_dir: Path, calls: list[Call], limits: Limits):
        self.tmp, self.calls, self.limits = tmp, calls, limits
        self.tmp_fd = open_folder(tmp)
        self.identity: Identity | None = None
        self.isolated = False
        try:
            self._prepare(submission_dir)
        except BaseException:
            self.close()
            raise

    def _prepare(self, submission_dir: Path) -> None:
        tmp, calls = self.tmp, self.calls
        self.identity = new_identity()
        if self.identity is not None:
            private_reference()
        self.isolated = self.identity is not None and namespaces_allowed()
        self.request_dir = tmp / "request"
        self.request_dir.mkdir(mode=0o700)
        self.work_dir = tmp / "work"
        self.work_dir.mkdir(mode=0o700)
        self.out_dir = tmp / "out"
        self.out_dir.mkdir(mode=0o700)
        self.submission_dir = tmp / "submission"
        copy_tree(submission_dir, self.submission_dir, SUBMISSION_COPY_LIMIT)
        self._n_arrays = 0
        self.result_room = MAX_RUN_BYTES  # what is left of the arrays kept from the run
        self.encoded = [self._encode_call(c) for c in calls]
        self.outcomes: dict[str, CallOutcome] = {}
        self.output = bytearray()
        self.output_truncated = False
        self.processes = 0
        self.started: dict[int, float] = {}  # call index -> when the child said it started
        self.extra_tasks = _own_tasks() if self.identity is None else 0
        self._hand_over()

    def _hand_over(self) -> None:
        """As root, before any student code runs: the run's uid may enter the top folder and
        read the request; work/, submission/ and out/ are its own, 0700."""
        if self.identity is None:
            return
        uid, gid = self.identity.uid, self.identity.gid
        os.fchown(self.tmp_fd, 0, gid)
        os.fchmod(self.tmp_fd, 0o750)
        _chown_tree(self.tmp_fd, "request", 0, gid, dir_mode=0o750, file_mode=0o640)
        for name in ("work", "submission", "out"):
            _chown_tree(self.tmp_fd, name, uid, gid, dir_mode=0o700, file_mode=0o600)

    def close(self) -> None:
        """Every student process of the run is dead by now (see _run_child)."""
        try:
            if self.identity is not None:
                try:
                    remove_leftovers(self.identity, self.isolated)
                finally:
                    release_identity(self.identity)
        finally:
            os.close(self.tmp_fd)

    def _collect(self) -> dict[str, bytes | None]:
        names = {name for call in self.calls for name in call.produces}
        if not names:
            return {}
        out = open_folder("out", dir_fd=self.tmp_fd)
        try:
            return {name: read_regular(out, name, self.limits.file_bytes) for name in names}
        finally:
            os.close(out)

    def _encode(self, value: Any) -> Any:
        if isinstance(value, np.ndarray):
            name = f"a{self._n_arrays}.npy"
            self._n_arrays += 1
            np.save(self.request_dir / name, value, allow_pickle=False)
            return {"__array__": name}
        if isinstance(value, dict):
            return {"__dict__": {k: self._encode(v) for k, v in value.items()}}
        if isinstance(value, np.generic):
            return value.item()
        return value

    def _encode_call(self, call: Call) -> dict[str, Any]:
        paths = [str(self.out_dir / Path(name).name) for name in call.produces]
        return {
            "module": call.module,
            "function": call.function,
            "args": paths + [self._encode(a) for a in call.args],
            "kwargs": {k: self._encode(v) for k, v in call.kwargs.items()},
            "n_outputs": call.n_outputs,
            "return_positional": list(call.return_positional),
            "return_keyword": list(call.return_keyword),
            "quiet": call.probe_of is not None,  # a probe's prints are not the student's output
            "timing": call.timing,
        }

    def run(self) -> RunRecord:
        self.clock = _Clock(self.limits)
        pending = list(range(len(self.calls)))
        while pending:
            pending = self._schedule(pending)
            if pending:
                pending = self._run_child(pending)
        text = self.output.decode("utf-8", errors="replace")
        record = RunRecord(self.outcomes, text, self.output_truncated, self.processes)
        record.files = self._collect()
        return record

    # -- one child -----------------------------------------------------------------
    def _run_child(self, pending: list[int]) -> list[int]:
        """Run the pending calls in one child; return the calls still to run."""
        config_name = f"config{self.processes}.json"
        result_read, result_write = os.pipe()
        output_read, output_write = os.pipe()
        total = self.limits.startup_limit + self.limits.time_limit * len(pending)
        config = {
            "calls": [self.encoded[i] for i in pending],
            "request_dir": str(self.request_dir),
            "submission_dir": str(self.submission_dir),
            "result_fd": result_write,
            **self.clock.child_config(),
            "identity": [self.identity.uid, self.identity.gid] if self.identity else None,
            "isolate": self._isolation(),
            "nice": 5,
            "limits": {
                "RLIMIT_AS": self.limits.memory_bytes,
                "RLIMIT_FSIZE": self.limits.file_bytes,
                "RLIMIT_CORE": 0,
                "RLIMIT_CPU": int(total) + 1,
                "RLIMIT_NPROC": self.limits.processes + self.extra_tasks,
                "RLIMIT_NOFILE": self.limits.open_files,
            },
        }
        # the top folder is root's: the uid cannot have planted anything at config_name
        write_file(self.tmp_fd, config_name, json.dumps(config).encode("utf-8"), 0o600)
        config_path = self.tmp / config_name
        self.processes += 1
        try:
            child = start_child(
                self.limits.mode,
                config_path,
                self.work_dir,
                self._child_env(),
                result_write,
                output_write,
                self.identity,
                self.limits.startup_limit,
            )
        finally:
            os.close(result_write)
            os.close(output_write)
        try:
            return self._watch(child, result_read, output_read, pending)
        finally:
            child.kill_all()
            child.wait()
            os.close(result_read)
            os.close(output_read)

    def _isolation(self) -> dict[str, Any] | None:
        """The namespace plan of bootstrap._isolate, or None (not root, or not allowed)."""
        if self.identity is None:
            return None
        if self.isolated:
            return isolation_plan(self.tmp, self.limits.disk_bytes)
        if hidden_ancestors(python_folders()):
            return isolation_plan(self.tmp, self.limits.disk_bytes, full=False)
        return None

    def _child_env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASSED_THROUGH_ENV if k in os.environ}
        env.update(
            HOME=str(self.work_dir),
            TMPDIR=str(self.work_dir),
            MPLBACKEND="Agg",
            MPLCONFIGDIR=str(self.work_dir),
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        return env

    def _watch(self, child: Child, result_fd: int, output_fd: int, pending: list[int]) -> list[int]:
        reader = FrameReader(self.result_room)
        try:
            return self._read_frames(child, reader, result_fd, output_fd, pending)
        finally:
            self.result_room = reader.room

    def _read_frames(
        self, child: Child, reader: FrameReader, result_fd: int, output_fd: int,
        pending: list[int],
    ) -> list[int]:
        selector = selectors.DefaultSelector()
        selector.register(result_fd, selectors.EVENT_READ, "result")
        selector.register(output_fd, selectors.EVENT_READ, "output")
        selector.register(child.fileno(), selectors.EVENT_READ, "exit")
        deadline = time.monotonic() + self.limits.startup_limit
        next_disk_check = time.monotonic() + DISK_CHECK_SECONDS
        ready = False
        current: int | None = None  # index into `pending` of the call under way
        importing: str | None = None
        awaiting: tuple[int, dict[str, Any], list[np.ndarray]] | None = None
        done = set()
        open_fds = 2
        while open_fds:
            now = time.monotonic()
            if now >= deadline:
                if not ready:
                    raise GraderError(
                        f"the student process did not start in {self.limits.startup_limit:g} s"
                    )
                return self._after_failure(pending, done, current, importing, "timeout")
            if now >= next_disk_check:
                next_disk_check = now + DISK_CHECK_SECONDS
                if _disk_usage([self.tmp], self.limits.disk_bytes) > self.limits.disk_bytes:
                    detail = Sentence(
                        N_("more than {size} MiB written"), {"size": self.limits.disk_bytes // MiB}
                    )
                    return self._after_failure(pending, done, current, importing, "disk", detail)
            timeout = min(deadline, next_disk_check) - now
            for key, _ in selector.select(timeout):
                if key.data == "exit":
                    selector.unregister(key.fd)
                    child.kill_all()  # its descendants may still hold the pipes open
                    continue
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fd)
                    open_fds -= 1
                    continue
                if key.data == "output":
                    self._keep_output(data)
                    continue
                try:
                    frames = reader.frames(data)
                    for frame in frames:
                        if awaiting is not None:
                            if frame.kind != "array":
                                raise ProtocolError("an event where an array was expected")
                            index, event, arrays = awaiting
                            arrays.append(frame.array)
                            if len(arrays) == event["n_arrays"]:
                                self._record(pending[index], event, arrays)
                                done.add(index)
                                awaiting = None
                                reader.array_limit = MAX_ARRAY_BYTES
                            continue
                        if frame.kind != "event" or frame.event is None:
                            raise ProtocolError("an array nobody asked for")
                        event = frame.event
                        name = event["event"]
                        if name == "ready":
                            ready = True
                        elif name == "start":
                            current, importing = _index(event, pending), None
                            self.started[pending[current]] = time.monotonic()
                            deadline = self.clock.call_deadline(self.calls[pending[current]])
                            self.clock.where = ""
                        elif name == "hung":  # where the call was just before its deadline
                            if event.get("call") == current:
                                self.clock.where = str(event.get("where", ""))[:300]
                        elif name == "timing":  # a speed test's imports are done
                            self.started[pending[_index(event, pending)]] = time.monotonic()
                        elif name == "importing":
                            importing = str(event.get("module", ""))
                        elif name == "imported":
                            self.clock.imported.add(str(importing))
                            importing = None
                        elif name == "result":
                            index = _index(event, pending)
                            importing = None
                            n_arrays = event.get("n_arrays", 0)
                            if not isinstance(
                                n_arrays, int
                            ) or not 0 <= n_arrays <= self._max_arrays(pending[index]):
                                raise ProtocolError(f"a result with {n_arrays!r} arrays")
                            if event.get("status") == "ok" and n_arrays > 0:
                                awaiting = (index, event, [])
                                reader.array_limit = self._array_limit(pending[index])
                            else:
                                self._record(pending[index], event, [])
                                done.add(index)
                except ResultLimit:
                    return self._after_failure(pending, done, current, importing, "result-limit")
                except ProtocolError as exc:
                    return self._after_failure(
                        pending, done, current, importing, "protocol", str(exc)
                    )
        child.kill_all()
        code = child.wait()
        if len(done) == len(pending):
            return []
        if not ready:  # no student code has run yet: the sandbox failed to start
            if code == 73:
                raise GraderError(
                    "the sandbox user cannot read the Python installation "
                    f"({sys.prefix}) and no mount namespace is allowed here: install Python "
                    "where every user can read it (see SECURITY.md)"
                )
            raise GraderError(
                f"the student process failed to start ({_exit_description(code).english()})"
            )
        return self._after_failure(
            pending, done, current, importing, "crashed", _exit_description(code)
        )

    def _after_failure(
        self,
        pending: list[int],
        done: set[int],
        current: int | None,
        importing: str | None,
        status: str,
        detail: str | Sentence = "",
    ) -> list[int]:
        """Record the failed call (or every call of a module whose import failed); return the rest."""
        remaining = [i for n, i in enumerate(pending) if n not in done]
        if current is None:
            # the child never started a call: every remaining call shares the failure
            sentence = _failure_message(status, detail, None, self.limits)
            for i in remaining:
                self.outcomes[self.calls[i].key] = CallOutcome(
                    status, message=sentence.english(), sentence=sentence
                )
            return []
        if current in done:
            return remaining  # it failed between calls, after progress: a fresh child goes on
        failed = pending[current]
        module = self.calls[failed].module
        victims = [
            i for i in remaining if i == failed or (importing and self.calls[i].module == module)
        ]
        if status == "result-limit":  # nothing more is kept from this run: nothing more runs
            victims = remaining
        where, by_budget = "", False
        if status == "timeout":
            where, by_budget = self.clock.record_hang(self.calls[failed])
            detail = (Sentence(N_("; it was at {where}"), {"where": where_sentence(where)})
                      if where else "")
        sentence = _failure_message(status, detail, importing and module, self.limits, by_budget)
        for i in victims:
            self.outcomes[self.calls[i].key] = CallOutcome(
                status, message=sentence.english(), where=where, sentence=sentence
            )
        return [i for i in remaining if i not in victims]

    def _schedule(self, pending: list[int]) -> list[int]:
        """The calls to give the next child, in order; the others are recorded as skipped.

        After a hang, calls of functions that have not hung run first (they keep their
        points), then the rest; probes run last, and never for a function that hung. Once
        the time budget is spent, nothing more runs."""
        hung = self.clock.hung_functions
        keep, skipped = [], []
        for i in pending:
            call = self.calls[i]
            if self.clock.spent() or (call.probe_of is not None and call.function in hung):
                skipped.append(i)
            else:
                keep.append(i)
        for i in skipped:
            call = self.calls[i]
            sentence = self.clock.skip_message()
            self.outcomes[call.key] = CallOutcome(
                "skipped", message=sentence.english(), sentence=sentence
            )
        return sorted(
            keep, key=lambda i: (self.calls[i].probe_of is not None, self.calls[i].function in hung)
        )

    def _array_limit(self, call_index: int) -> int:
        """The largest array a call may send back. A probe's inputs are the grader's and
        small, and so are its right results: at most PROBE_ARRAY_FACTOR times its inputs'
        bytes, plus PROBE_ARRAY_SLACK (a forward's 64 MiB on every probe call is refused
        from the frame's declared length, unread). Any other call: wire.MAX_ARRAY_BYTES."""
        call = self.calls[call_index]
        if call.probe_of is None:
            return MAX_ARRAY_BYTES
        given = _nbytes(call.args) + _nbytes(call.kwargs)
        return min(MAX_ARRAY_BYTES, PROBE_ARRAY_SLACK + PROBE_ARRAY_FACTOR * given)

    def _max_arrays(self, call_index: int) -> int:
        call = self.calls[call_index]
        return call.n_outputs + len(call.return_positional) + len(call.return_keyword)

    def _record(self, call_index: int, event: dict[str, Any], arrays: list[np.ndarray]) -> None:
        call = self.calls[call_index]
        status = str(event.get("status", "protocol"))
        message = str(event.get("message", ""))[:2000]
        sentence = None  # the grader's own words, translated where shown
        if status == "bad-return":
            got: Sentence | str = str(event.get("got", "?"))[:80]  # a type's name
            length = event.get("length")
            if type(length) is int and length >= 0:
                got = Sentence(N_("a {kind} of {n}"), {"kind": got, "n": length})
            returned = Sentence(
                N_("{function} returned {got}"), {"function": call.function, "got": got}
            )
            sentence = Sentence(
                N_("{returned}; expected a tuple of {n} arrays"),
                {"returned": returned, "n": call.n_outputs},
            )
            message = sentence.english()
        exception = str(event.get("exception", ""))[:100]
        note = _limit_note(exception, message, self.limits)
        if note is not None:
            sentence = Sentence(N_("{problem} ({limit})"), {"problem": sentence or message,
                                                            "limit": note})
            message = sentence.english()
        self.outcomes[call.key] = CallOutcome(
            status=status,
            outputs=arrays[: call.n_outputs],
            returned_inputs=arrays[call.n_outputs :],
            message=message,
            sentence=sentence,
            where=str(event.get("where", ""))[:300],
            exception=exception,
            wall_seconds=time.monotonic() - self.started.get(call_index, time.monotonic()),
        )

    def _keep_output(self, data: bytes) -> None:
        room = self.limits.output_bytes - len(self.output)
        if len(data) > room:
            self.output_truncated = True
        if room > 0:
            self.output += data[:room]


PROBE_ARRAY_FACTOR = 16  # float64 from float32 inputs, and (B, H, L, S) weights from (B, L, D)
PROBE_ARRAY_SLACK = 1 * MiB


def _nbytes(value: Any) -> int:
    """The bytes of the arrays in a call's arguments (lists and dicts of them)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_nbytes(v) for v in value)
    return 0


def _index(event: dict[str, Any], pending: list[int]) -> int:
    index = event.get("call")
    if not isinstance(index, int) or not 0 <= index < len(pending):
        raise ProtocolError(f"an event for an unknown call {index!r}")
    return index


class _Clock:
    """The time of one run: each call's deadline, the time budget, and where calls hung.

    The budget counts wall time from the first call's start (not the sandbox's start-up),
    so the calls that return at once cost almost nothing of it and the hangs cost their
    limits."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.end: float | None = None  # set when the first call starts
        self.where = ""  # the current call's last reported position (a "hung" event)
        self.hangs: list[tuple[str, str]] = []  # (function, where) of each timed-out call
        self.imported: set[str] = set()  # modules imported by an earlier child of this run

    @property
    def hung_functions(self) -> set[str | None]:
        return {function for function, _ in self.hangs}

    def left(self) -> float | None:
        if not self.limits.time_budget:
            return None
        return self.limits.time_budget if self.end is None else self.end - time.monotonic()

    def spent(self) -> bool:
        left = self.left()
        return left is not None and left <= 0

    def call_deadline(self, call: Call) -> float:
        """A probe changes no points: it gets a few seconds at most, not the test's limit."""
        limit = self.limits.time_limit
        if call.probe_of is not None:
            limit = min(limit, PROBE_TIME_LIMIT)
        now = time.monotonic()
        if self.end is None and self.limits.time_budget:
            self.end = now + self.limits.time_budget
        return now + limit if self.end is None else min(now + limit, self.end)

    def child_config(self) -> dict[str, Any]:
        """What the child needs to report where a call is stuck just before its deadline,
        and which imports' module-level output was already shown by an earlier child."""
        return {
            "time_limit": self.limits.time_limit,
            "budget_left": self.left(),
            "budget_end": self.end,  # CLOCK_MONOTONIC, shared by the processes of this machine
            "quiet_imports": sorted(self.imported),
        }

    def record_hang(self, call: Call) -> tuple[str, bool]:
        """Record that `call` timed out: (where it was, whether the budget ended it)."""
        self.hangs.append((call.function or call.module, self.where))
        return self.where, self.spent()

    def skip_message(self) -> Sentence:
        if self.spent():
            budget = {"budget": self.limits.time_budget}
            if not self.hangs:
                return Sentence(N_("not run: the time budget ({budget:g} s) was spent"), budget)
            function, where = self.hangs[0]
            if not where:
                return Sentence(
                    N_("not run: the time budget ({budget:g} s) was spent after {function} hung"),
                    {**budget, "function": function},
                )
            return Sentence(
                N_("not run: the time budget ({budget:g} s) was spent after {function} hung at "
                   "{where}"),
                {**budget, "function": function, "where": where_sentence(where)},
            )
        return Sentence(N_("not run: a probe of a function that hung"))


def _failure_message(
    status: str,
    detail: str | Sentence,
    module: str | None,
    limits: Limits,
    by_budget: bool = False,
) -> Sentence:
    """The message of a failed call; for a timeout, `detail` says where the code was."""
    if module:
        during = Sentence(N_("while importing {module}.py"), {"module": module})
    else:
        during = Sentence(N_("during this test"))
    values = {"during": during, "detail": detail}
    if status == "timeout":
        if by_budget:
            return Sentence(
                N_("Time budget: the submission's {budget:g} s ran out {during} "
                   "(an infinite loop?){detail}"),
                {**values, "budget": limits.time_budget},
            )
        return Sentence(
            N_("Time limit: no result after {limit:g} s {during} (an infinite loop?){detail}"),
            {**values, "limit": limits.time_limit},
        )
    if status == "crashed":
        return Sentence(N_("The process ended {during}: {detail}"), values)
    if status == "disk":
        return Sentence(N_("Disk limit: {detail} {during}; the process was stopped"), values)
    if status == "result-limit":
        return Sentence(
            N_("Result limit: the arrays your code returned passed {mib} MiB in all {during}; "
               "the grader keeps no more, and ran nothing else"),
            {**values, "mib": MAX_RUN_BYTES // MiB},
        )
    return Sentence(N_("The student process sent malformed data {during}: {detail}"), values)


def _limit_note(exception: str, message: str, limits: Limits) -> Sentence | None:
    """Say which limit an error came from, and its value."""
    if exception == "MemoryError":
        return Sentence(N_("memory limit: {mib} MiB per student process"),
                        {"mib": limits.memory_bytes // MiB})
    if "File too large" in message:
        return Sentence(N_("file size limit: {mib} MiB"), {"mib": limits.file_bytes // MiB})
    if exception == "BlockingIOError" and "Resource temporarily unavailable" in message:
        return Sentence(N_("process limit: {n} processes"), {"n": limits.processes})
    return None


def _exit_description(code: int | None) -> Sentence:
    if code is None:
        return Sentence(N_("unknown exit"))
    if code < 0:
        name = (
            signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        )
        template = {
            signal.SIGKILL: N_("killed by {signal} (killed by the grader or the system; memory?)"),
            signal.SIGSEGV: N_("killed by {signal} (memory limit?)"),
            signal.SIGXCPU: N_("killed by {signal} (CPU time limit)"),
        }.get(-code, N_("killed by {signal}"))
        return Sentence(template, {"signal": name})
    return Sentence(N_("exit code {code} (sys.exit or os._exit in student code?)"), {"code": code})


DISK_CHECK_SECONDS = 0.25
PROBE_TIME_LIMIT = 2.0  # seconds for one probe call (probes.py); a test's calls take ms


def _disk_usage(folders: list[Path], limit: int, max_entries: int = 20000) -> int:
    """Bytes used under `folders`; past `max_entries` files, report more than `limit`."""
    total, entries = 0, 0
    stack = [str(f) for f in folders]
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                for entry in listing:
                    entries += 1
                    if entries > max_entries:
                        return limit + 1
                    st = entry.stat(follow_symlinks=False)
                    total += st.st_blocks * 512
                    if entry.is_dir(follow_symlinks=False):
                        stack.append(entry.path)
        except OSError:
            continue
    return total


def _chown_tree(
    top_fd: int, name: str, uid: int, gid: int, *, dir_mode: int, file_mode: int
) -> None:
    """Give top/name and everything in it to uid:gid, through descriptors (os.fwalk never
    follows a link; the grader made every entry itself, before any student code ran)."""
    for _folder, _dirs, files, fd in os.fwalk(name, dir_fd=top_fd, follow_symlinks=False):
        os.fchown(fd, uid, gid)
        os.fchmod(fd, dir_mode)
        for entry in files:
            file_fd = os.open(entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=fd)
            try:
                os.fchown(file_fd, uid, gid)
                os.fchmod(file_fd, file_mode)
            finally:
                os.close(file_fd)


def _own_tasks() -> int:
    """Processes and threads of this uid now (RLIMIT_NPROC counts them all when not root)."""
    uid, count = os.getuid(), 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    count += len(os.listdir(f"/proc/{name}/task"))
            except OSError:
                pass
    return count
