"""Hostile and broken submissions: each gets its exact verdict, and the grader's report,
the machine and the other tests stay intact. Cases live in tests/hostile/<name>/:
softmax.py (the attack) over a correct attention.py (tests/hostile/_base), and
case.toml (expected status and message of each test, limits, extra checks)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
from pathlib import Path

import pytest
import tomllib
from attn_grade import runner
from attn_grade.grading import grade
from attn_grade.reference import KIT_ROOT
from attn_grade.report.json_report import render_json
from attn_grade.runner import GraderError, Limits
from attn_grade.sandbox.launch import UID_BASE, UID_COUNT, Zygote
from attn_grade.sandbox.launch import new_identity as runner_identity

HOSTILE = Path(__file__).parent / "hostile"
CASES = sorted(p.name for p in HOSTILE.iterdir() if (p / "case.toml").is_file())
DEFAULT_ONLY = ["softmax_rows", "softmax_axis_0", "attention_single"]
MiB = 1024**2
ROOT = os.geteuid() == 0


def build(name: str, target: Path) -> Path:
    """The case's files over _base; @KIT_ROOT@ in them becomes this clone's path (an attacker
    knows where the grader lives: it need not import attn_grade, which a clone in a private
    folder keeps out of the sandbox uid's reach)."""
    shutil.copytree(HOSTILE / "_base", target)
    for path in (HOSTILE / name).iterdir():
        if path.name != "case.toml":  # x.py.in: a file pytest must not pick up here (conftest.py)
            text = path.read_text(encoding="utf-8").replace("@KIT_ROOT@", str(KIT_ROOT))
            (target / path.name.removesuffix(".in")).write_text(text, encoding="utf-8")
    return target


def limits_of(table: dict) -> Limits:
    return Limits(
        time_limit=table.get("time_limit", 5.0),
        memory_bytes=table.get("memory_mb", 1024) * MiB,
        file_bytes=table.get("file_mb", 64) * MiB,
        disk_bytes=table.get("disk_mb", 256) * MiB,
    )


def sandbox_processes(uids: set[int]) -> list[int]:
    """Live processes of one of `uids` (none may outlive grading). Zombies have exited
    already: where PID 1 does not reap (a container), orphans of an earlier run killed
    with its zygote stay as zombies of their uid."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            status = Path(f"/proc/{name}/status").read_text()
        except OSError:
            continue
        uid = int(re.search(r"^Uid:\s+(\d+)", status, re.M).group(1))
        if uid in uids and alive(int(name)):
            found.append(int(name))
    return found


def _record(identity, uids: set[int]):
    if identity is not None:
        uids.add(identity.uid)
    return identity


def describe(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid} (gone)"
    return f"{stat[:60]} {command[:80]}"


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", CASES)
def test_hostile_submission(name, tmp_path, monkeypatch):
    case = tomllib.loads((HOSTILE / name / "case.toml").read_text())
    if case.get("root_only") and not ROOT:
        pytest.skip("needs the grader to run as root (a sandbox uid of its own)")
    submission = build(name, tmp_path / "submission")
    only = case.get("only", DEFAULT_ONLY)
    uids = set()  # the sandbox uids of this grading (other graders may run on the machine)
    monkeypatch.setattr(runner, "new_identity", lambda: _record(runner_identity(), uids))
    result = grade(
        "lab01", submission, hidden=False, only=only, limits=limits_of(case.get("limits", {}))
    )

    statuses = {t.name: t.status for t in result.tests}
    assert statuses == case["expect"], [(t.name, t.status, t.message) for t in result.tests]
    for test in result.tests:
        wanted = case.get("message", {}).get(test.name)
        if wanted:
            assert wanted in test.message, test.message
        assert test.points == (test.max_points if test.status == "passed" else 0.0)
    # the grader's own report is intact and complete
    report = json.loads(render_json(result))
    assert [t["name"] for t in report["tests"]] == only
    assert len(result.student_output) <= Limits().output_bytes
    if case.get("truncated"):
        assert result.student_output_truncated
    if case.get("absent"):
        assert not Path(case["absent"]).exists(), f"{case['absent']} was written"
    if case.get("daemons"):
        pids = [int(p) for p in re.findall(r"DAEMON (\d+)", result.student_output)]
        assert len(pids) == 2 and not any(alive(p) for p in pids)
    if ROOT:
        assert uids and all(UID_BASE <= u < UID_BASE + UID_COUNT for u in uids)
        assert [describe(p) for p in sandbox_processes(uids)] == []


@pytest.mark.timeout(60)
def test_a_grader_crash_is_a_grader_error_not_a_zero(tmp_path, monkeypatch):
    from attn_grade import runner

    def broken(self, data):
        raise RuntimeError("simulated bug in the grader")

    monkeypatch.setattr(runner.FrameReader, "frames", broken)
    with pytest.raises(GraderError, match="not a verdict on the submission"):
        grade("lab01", build("nan_inf", tmp_path / "s"), hidden=False, only=DEFAULT_ONLY)


@pytest.mark.timeout(60)
def test_the_grader_survives_the_death_of_its_zygote(tmp_path):
    submission = build("nan_inf", tmp_path / "s")
    grade("lab01", submission, hidden=False, only=["attention_single"])
    zygote = Zygote._shared
    if zygote is None:
        pytest.skip("ATTN_GRADE_SANDBOX=spawn: no zygote")
    os.kill(zygote.process.pid, signal.SIGKILL)
    zygote.process.wait()
    result = grade("lab01", submission, hidden=False, only=["attention_single"])
    assert [t.status for t in result.tests] == ["passed"]
    assert Zygote._shared is not zygote


@pytest.mark.timeout(60)
def test_solutions_are_unreadable_for_the_sandbox_uid():
    if not ROOT:
        pytest.skip("only root can give the student process another uid")
    from attn_grade.reference import KIT_ROOT

    grade(
        "lab01",
        build("nan_inf", Path(os.environ.get("TMPDIR", "/tmp")) / f"hs{os.getpid()}"),
        hidden=False,
        only=["attention_single"],
    )
    assert (KIT_ROOT / "solutions").stat().st_mode & 0o007 == 0


BIG_RESULTS = """
import numpy as np
def big(n):
    return np.zeros(n)
"""


@pytest.mark.timeout(120)
def test_the_arrays_kept_from_one_run_are_capped_in_all(tmp_path):
    """Each array may be 64 MiB, but a run's arrays together no more than MAX_RUN_BYTES
    (192 MiB): a forward that returned 64 MiB on each of lab05's ~270 probe calls took the
    grader to 2 GB at 20 calls. An array past the cap is refused from its frame's declared
    length, before its payload is read; it and every call after it get the limit's
    message (the student's verdict), never a GraderError."""
    from attn_grade.runner import Call, run_calls
    from attn_grade.wire import MAX_RUN_BYTES

    assert MAX_RUN_BYTES == 192 * MiB
    (tmp_path / "big.py").write_text(BIG_RESULTS, encoding="utf-8")
    n = 50 * MiB // 8  # 50 MiB of float64: three fit, the fourth does not
    calls = [Call(k, "big", "big", [n], {}, 1) for k in "abcd"]
    calls.append(Call("e", "big", "big", [4], {}, 1))
    record = run_calls(tmp_path, calls, Limits(time_limit=10))
    assert [record.outcomes[k].status for k in "abc"] == ["ok"] * 3
    for key in "de":
        outcome = record.outcomes[key]
        assert outcome.status == "result-limit" and not outcome.outputs, outcome
        assert outcome.message == (
            "Result limit: the arrays your code returned passed 192 MiB in all during this "
            "test; the grader keeps no more, and ran nothing else"), outcome.message
    assert record.processes == 1


def test_an_array_past_the_runs_cap_is_refused_before_its_payload_arrives():
    import struct

    from attn_grade.wire import FrameReader, ResultLimit

    reader = FrameReader(room=100)
    with pytest.raises(ResultLimit):
        reader.feed(struct.pack(">cI", b"A", 101))  # the header alone: no payload read yet


@pytest.mark.timeout(120)
def test_a_timeout_in_portuguese_says_where_in_portuguese(tmp_path):
    """The place a hung call was at goes through the translation like the rest of the
    sentence (it read "estava em softmax.py, line 4, in softmax")."""
    folder = build("infinite_loop", tmp_path / "sub")
    result = grade("lab01", folder, only=["softmax_rows"], lang="pt",
                   limits=Limits(time_limit=1.0))
    (test,) = result.tests
    assert test.status == "timeout"
    assert test.message == (
        "Limite de tempo: nenhum resultado depois de 1 s durante este teste (um laço infinito?); "
        "estava em softmax.py, linha 4, em softmax"), test.message


VISUALIZE_HANGS = "def draw():\n    while True:\n        pass\n\n\ndraw()\n"


@pytest.mark.timeout(120)
def test_a_script_that_hangs_is_told_once_where_in_the_reports_language(tmp_path):
    """visualize.py's timeout read "visualize.py falhou: Time limit: ... (an infinite
    loop?); it was at train.py, line 46, in train (train.py, linha 46, em train)": an
    English sentence, and the place twice."""
    from attn_grade.deliverables import check_deliverables, run_script
    from attn_grade.labspec import load_lab

    folder = build("infinite_loop", tmp_path / "sub")
    (folder / "visualize.py").write_text(VISUALIZE_HANGS, encoding="utf-8")
    spec = next(d for d in load_lab("lab01").deliverables if d.kind == "script-png")
    runs = {spec.id: run_script(spec, folder, Limits(time_limit=1.0))}
    for lang, message in [
        ("pt", "visualize.py falhou: Limite de tempo: nenhum resultado depois de 1 s durante este "
               "teste (um laço infinito?); estava em visualize.py, linha 2, em draw"),
        ("en", "visualize.py failed: Time limit: no result after 1 s during this test (an "
               "infinite loop?); it was at visualize.py, line 2, in draw"),
    ]:
        (result,) = check_deliverables((spec,), folder, runs, None, lang)
        assert (result.status, result.message) == ("failed", message), result.message


@pytest.mark.timeout(120)
def test_a_probe_returning_far_more_than_its_inputs_is_refused_unread(tmp_path):
    """A probe's inputs are the grader's and small: an array larger than 16 times their
    bytes plus 1 MiB is refused from its frame's declared length (a protocol error of that
    probe alone); a test call may still return up to 64 MiB."""
    from attn_grade.runner import Call, run_calls

    (tmp_path / "big.py").write_text(BIG_RESULTS, encoding="utf-8")
    n = 2 * MiB // 8  # 2 MiB of float64, asked with an int: 1 MiB of room
    calls = [Call("test", "big", "big", [n], {}, 1), Call("probe", "big", "big", [n], {}, 1,
                                                          probe_of="test"),
             Call("small", "big", "big", [4], {}, 1, probe_of="test")]
    record = run_calls(tmp_path, calls, Limits(time_limit=10))
    assert record.outcomes["test"].status == "ok"
    probe = record.outcomes["probe"]
    assert probe.status == "protocol" and not probe.outputs
    assert probe.message == (
        "The student process sent malformed data during this test: an array of 2097280 bytes, "
        "where this call returns at most 1048576 bytes"), probe.message
    assert record.outcomes["small"].status == "ok"
