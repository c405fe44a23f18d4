"""Run student functions in a child process and collect validated results.

The grader's process never imports student code. For each batch of calls it
starts ``python -I -B sandbox/bootstrap.py`` in a fresh temporary folder with a
clean environment, hands it the inputs as .npy files, and reads results back
from a private pipe (see wire.py). A call that runs past its time limit, or that
ends the process, costs only itself: the child is killed with its whole process
group and a fresh child resumes with the next call.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from attn_grade.wire import FrameReader, ProtocolError

BOOTSTRAP = Path(__file__).parent / "sandbox" / "bootstrap.py"
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


@dataclass
class CallOutcome:
    """What one call produced. status: ok, not-implemented, error, missing, bad-return,
    bad-value, timeout, crashed or protocol."""

    status: str
    outputs: list[np.ndarray] = field(default_factory=list)
    returned_inputs: list[np.ndarray] = field(default_factory=list)
    message: str = ""
    where: str = ""
    exception: str = ""


@dataclass(frozen=True)
class Limits:
    time_limit: float = 10.0  # seconds per call
    startup_limit: float = 30.0  # seconds to start Python and import numpy
    memory_bytes: int = 2 * 1024**3  # address space of the child
    file_bytes: int = 64 * 1024**2  # largest file the child may write
    output_bytes: int = 32 * 1024  # student stdout/stderr kept for the report


@dataclass
class RunRecord:
    outcomes: dict[str, CallOutcome]
    output: str  # the student's stdout and stderr, truncated to Limits.output_bytes
    output_truncated: bool
    processes: int  # child processes started (1 unless a call hung or crashed)


def run_calls(submission_dir: Path, calls: list[Call], limits: Limits = Limits()) -> RunRecord:
    """Run every call in child processes; return one outcome per call key."""
    _protect_parent_memory()
    with tempfile.TemporaryDirectory(prefix="attn-grade-") as tmp:
        session = _Session(Path(tmp), Path(submission_dir).resolve(), calls, limits)
        return session.run()


def _protect_parent_memory() -> None:
    """A same-user child could read or write the grader's memory through /proc/<pid>/mem."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
        except (OSError, AttributeError):
            pass


class _Session:
    def __init__(self, tmp: Path, submission_dir: Path, calls: list[Call], limits: Limits):
        self.tmp, self.submission_dir, self.calls, self.limits = tmp, submission_dir, calls, limits
        self.request_dir = tmp / "request"
        self.request_dir.mkdir()
        self.work_dir = tmp / "work"
        self.work_dir.mkdir()
        self._n_arrays = 0
        self.encoded = [self._encode_call(c) for c in calls]
        self.outcomes: dict[str, CallOutcome] = {}
        self.output = bytearray()
        self.output_truncated = False
        self.processes = 0

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
        return {
            "module": call.module,
            "function": call.function,
            "args": [self._encode(a) for a in call.args],
            "kwargs": {k: self._encode(v) for k, v in call.kwargs.items()},
            "n_outputs": call.n_outputs,
            "return_positional": list(call.return_positional),
            "return_keyword": list(call.return_keyword),
        }

    def run(self) -> RunRecord:
        pending = list(range(len(self.calls)))
        while pending:
            pending = self._run_child(pending)
        text = self.output.decode("utf-8", errors="replace")
        return RunRecord(self.outcomes, text, self.output_truncated, self.processes)

    # -- one child -----------------------------------------------------------------
    def _run_child(self, pending: list[int]) -> list[int]:
        """Run the pending calls in one child; return the calls still to run."""
        config_path = self.tmp / f"config{self.processes}.json"
        result_read, result_write = os.pipe()
        total = self.limits.startup_limit + self.limits.time_limit * len(pending)
        config = {
            "calls": [self.encoded[i] for i in pending],
            "request_dir": str(self.request_dir),
            "submission_dir": str(self.submission_dir),
            "result_fd": result_write,
            "limits": {
                "RLIMIT_AS": self.limits.memory_bytes,
                "RLIMIT_FSIZE": self.limits.file_bytes,
                "RLIMIT_CORE": 0,
                "RLIMIT_CPU": int(total) + 1,
            },
        }
        config_path.write_text(json.dumps(config), encoding="utf-8")
        self.processes += 1
        process = subprocess.Popen(
            [sys.executable, "-I", "-B", "-u", str(BOOTSTRAP), str(config_path)],
            cwd=self.work_dir,
            env=self._child_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(result_write,),
            start_new_session=True,
        )
        os.close(result_write)
        try:
            return self._watch(process, result_read, pending)
        finally:
            _kill_group(process)
            os.close(result_read)
            if process.stdout:
                process.stdout.close()

    def _child_env(self) -> dict[str, str]:
        env = {k: os.environ[k] for k in PASSED_THROUGH_ENV if k in os.environ}
        env.update(
            HOME=str(self.work_dir),
            TMPDIR=str(self.work_dir),
            MPLBACKEND="Agg",
            OPENBLAS_NUM_THREADS="1",
            OMP_NUM_THREADS="1",
            MKL_NUM_THREADS="1",
        )
        return env

    def _watch(self, process: subprocess.Popen, result_fd: int, pending: list[int]) -> list[int]:
        reader = FrameReader()
        selector = selectors.DefaultSelector()
        selector.register(result_fd, selectors.EVENT_READ, "result")
        assert process.stdout is not None
        selector.register(process.stdout.fileno(), selectors.EVENT_READ, "output")
        deadline = time.monotonic() + self.limits.startup_limit
        current: int | None = None  # index into `pending` of the call under way
        importing: str | None = None
        awaiting: tuple[int, dict[str, Any], list[np.ndarray]] | None = None
        done = set()
        open_fds = 2
        while open_fds:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                return self._after_failure(pending, done, current, importing, "timeout")
            for key, _ in selector.select(timeout):
                data = os.read(key.fd, 65536)
                if not data:
                    selector.unregister(key.fd)
                    open_fds -= 1
                    continue
                if key.data == "output":
                    self._keep_output(data)
                    continue
                try:
                    frames = reader.feed(data)
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
                            continue
                        if frame.kind != "event" or frame.event is None:
                            raise ProtocolError("an array nobody asked for")
                        event = frame.event
                        name = event["event"]
                        if name == "start":
                            current, importing = _index(event, pending), None
                            deadline = time.monotonic() + self.limits.time_limit
                        elif name == "importing":
                            importing = str(event.get("module", ""))
                        elif name == "imported":
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
                            else:
                                self._record(pending[index], event, [])
                                done.add(index)
                except ProtocolError as exc:
                    return self._after_failure(
                        pending, done, current, importing, "protocol", str(exc)
                    )
        process.wait()
        if len(done) == len(pending):
            return []
        return self._after_failure(
            pending, done, current, importing, "crashed", _exit_description(process.returncode)
        )

    def _after_failure(
        self,
        pending: list[int],
        done: set[int],
        current: int | None,
        importing: str | None,
        status: str,
        detail: str = "",
    ) -> list[int]:
        """Record the failed call (or every call of a module whose import failed); return the rest."""
        remaining = [i for n, i in enumerate(pending) if n not in done]
        if current is None:
            # the child never started a call: every remaining call shares the failure
            message = _failure_message(status, detail, None, self.limits)
            for i in remaining:
                self.outcomes[self.calls[i].key] = CallOutcome(status, message=message)
            return []
        if current in done:
            return remaining  # it failed between calls, after progress: a fresh child goes on
        failed = pending[current]
        module = self.calls[failed].module
        victims = [
            i for i in remaining if i == failed or (importing and self.calls[i].module == module)
        ]
        message = _failure_message(status, detail, importing and module, self.limits)
        for i in victims:
            self.outcomes[self.calls[i].key] = CallOutcome(status, message=message)
        return [i for i in remaining if i not in victims]

    def _max_arrays(self, call_index: int) -> int:
        call = self.calls[call_index]
        return call.n_outputs + len(call.return_positional) + len(call.return_keyword)

    def _record(self, call_index: int, event: dict[str, Any], arrays: list[np.ndarray]) -> None:
        call = self.calls[call_index]
        status = str(event.get("status", "protocol"))
        message = str(event.get("message", ""))[:2000]
        if status == "bad-return":
            message = (
                f"{call.function} returned {str(event.get('got', '?'))[:80]}; "
                f"expected a tuple of {call.n_outputs} arrays"
            )
        self.outcomes[call.key] = CallOutcome(
            status=status,
            outputs=arrays[: call.n_outputs],
            returned_inputs=arrays[call.n_outputs :],
            message=message,
            where=str(event.get("where", ""))[:300],
            exception=str(event.get("exception", ""))[:100],
        )

    def _keep_output(self, data: bytes) -> None:
        room = self.limits.output_bytes - len(self.output)
        if len(data) > room:
            self.output_truncated = True
        if room > 0:
            self.output += data[:room]


def _index(event: dict[str, Any], pending: list[int]) -> int:
    index = event.get("call")
    if not isinstance(index, int) or not 0 <= index < len(pending):
        raise ProtocolError(f"an event for an unknown call {index!r}")
    return index


def _failure_message(status: str, detail: str, module: str | None, limits: Limits) -> str:
    during = f"while importing {module}.py" if module else "during this test"
    if status == "timeout":
        return f"Time limit: no result after {limits.time_limit:g} s {during} (an infinite loop?)"
    if status == "crashed":
        return f"The process ended {during}: {detail}"
    return f"The student process sent malformed data {during}: {detail}"


def _exit_description(code: int | None) -> str:
    if code is None:
        return "unknown exit"
    if code < 0:
        name = (
            signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        )
        hint = " (memory limit?)" if -code in (signal.SIGKILL, signal.SIGSEGV) else ""
        return f"killed by {name}{hint}"
    return f"exit code {code} (sys.exit or os._exit in student code?)"


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()
