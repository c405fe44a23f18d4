"""The runner on its own: both sandbox modes agree, limits come from the environment,
and a script's output folder is handed back to the grader."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest
from attn_grade.runner import Call, Limits, run_calls

SOFTMAX = "import numpy as np\ndef softmax(x, axis=-1):\n    e = np.exp(x - x.max(axis, keepdims=True))\n    return e / e.sum(axis, keepdims=True)\n"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("mode", ["zygote", "spawn"])
def test_both_modes_give_the_same_result(tmp_path, mode):
    (tmp_path / "softmax.py").write_text(SOFTMAX)
    x = np.arange(6.0).reshape(2, 3)
    record = run_calls(tmp_path, [Call("a", "softmax", "softmax", [x], {}, 1)], Limits(mode=mode))
    outcome = record.outcomes["a"]
    assert outcome.status == "ok" and record.processes == 1
    np.testing.assert_allclose(outcome.outputs[0].sum(axis=-1), 1.0)


def test_limits_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ATTN_GRADE_MEMORY_MB", "300")
    monkeypatch.setenv("ATTN_GRADE_TIME_LIMIT", "2.5")
    limits = Limits(time_limit=10.0)
    assert limits.memory_bytes == 300 * 1024**2 and limits.time_limit == 2.5


@pytest.mark.timeout(60)
def test_a_script_hands_back_the_files_it_was_asked_for(tmp_path):
    submission = tmp_path / "sub"
    submission.mkdir()
    (submission / "draw.py").write_text("import sys\nopen(sys.argv[1], 'wb').write(b'ok')\n")
    record = run_calls(submission, [Call("s", "draw", None, [], {}, 0, produces=("x.bin",))])
    assert record.outcomes["s"].status == "ok"
    assert record.files == {"x.bin": b"ok"}
    assert not (submission / "x.bin").exists()  # the student's process worked on a copy


@pytest.mark.skipif(os.geteuid() != 0, reason="sandbox uids are used only when grading as root")
def test_forked_workers_never_share_a_sandbox_uid():
    """Batch workers are forked with the same module state; each run's uid must be its own."""
    from attn_grade.sandbox.launch import new_identity, release_identity

    held = new_identity()
    pipes = []
    try:
        for _ in range(3):  # three forked workers holding a uid at the same time
            read, write = os.pipe()
            if os.fork() == 0:
                os.close(read)
                identity = new_identity()
                os.write(write, str(identity.uid).encode())
                os.close(write)
                time.sleep(1.0)
                release_identity(identity)
                os._exit(0)
            os.close(write)
            pipes.append(read)
        uids = {held.uid}
        for read in pipes:
            uids.add(int(os.read(read, 32)))
            os.close(read)
    finally:
        for _ in pipes:
            os.wait()
        release_identity(held)
    assert len(uids) == 4


def test_a_child_that_ends_at_once_is_read_right():
    """The zygote's b"P<pid>" and b"X<status>" lines can arrive in one read (seen once in
    200 batch gradings as a grader error)."""
    import socket

    from attn_grade.sandbox.launch import ForkedChild

    zygote_side, grader_side = socket.socketpair()
    zygote_side.sendall(b"P6870\nX0\n")
    zygote_side.close()
    child = ForkedChild(grader_side, timeout=1.0)
    assert (child.pid, child.wait()) == (6870, 0)


def test_temp_folders_of_a_killed_grader_are_swept(tmp_path):
    """A grader killed mid-run leaves copies of student code; the next one removes them."""
    import subprocess
    import sys

    from attn_grade.tempdirs import sweep_orphans

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    orphan = tmp_path / f"attn-grade-run-{dead}-abc"
    (orphan / "submission").mkdir(parents=True)
    (orphan / "submission" / "softmax.py").write_text("# a student's code\n")
    alive = tmp_path / f"attn-grade-run-{os.getpid()}-def"
    alive.mkdir()
    other = tmp_path / "someone-else-123-"
    other.mkdir()
    assert sweep_orphans(tmp_path) == [orphan]
    assert not orphan.exists() and alive.exists() and other.exists()
