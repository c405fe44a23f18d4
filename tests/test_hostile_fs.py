"""Hostile submissions against the file system and the isolation of runs (issue #10,
classes 1, 2, 3 and 8). Each attack states its exact verdict, and checks that the
grader's files, the reference and other students' files are intact.

    1  the grader never writes, chowns or chmods through a path the student controls
    2  no student process reads another submission, the results or the grader's temp folders
    3  public expected values are no answer key when the reference is present
    8  nothing a run created outlives it: files, SysV IPC objects, processes

Most attacks matter as root (batch grading, Gradescope), where each run has a uid of
its own; they are skipped with a reason otherwise. Attacks that need root run twice:
with mount namespaces (the default as root) and without (ATTN_GRADE_NAMESPACES=off,
as in a Docker container without CAP_SYS_ADMIN), where only permissions protect.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
from pathlib import Path

import attn_grade
import pytest
from attn_grade import batch, runner
from attn_grade import gradebook as gb
from attn_grade.cli import app
from attn_grade.grading import grade
from attn_grade.safe_files import remove_tree
from attn_grade.sandbox import launch
from attn_grade.sandbox.launch import new_identity as real_new_identity
from conftest import KIT_ROOT, SOLUTIONS, copy_reference
from test_hostile import DEFAULT_ONLY, alive, build, describe, sandbox_processes
from typer.testing import CliRunner

ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not ROOT, reason="needs the grader to run as root (sandbox uids)")
NAMESPACES = pytest.mark.parametrize("namespaces", ["on", "off"], indirect=True)
SOFTMAX = (
    "import numpy as np\n\n"
    "def _softmax(x, axis=-1):\n"
    "    e = np.exp(x - np.max(x, axis=axis, keepdims=True))\n"
    "    return e / np.sum(e, axis=axis, keepdims=True)\n"
)


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry under `folder` (no link followed): kind, mode, owner, links, content."""
    found = {}
    for parent, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(parent) / name
            st = path.lstat()
            if stat.S_ISREG(st.st_mode):
                content = hashlib.sha256(path.read_bytes()).hexdigest()
            elif stat.S_ISLNK(st.st_mode):
                content = os.readlink(path)
            else:
                content = ""
            found[str(path.relative_to(folder))] = (
                stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode), st.st_uid, st.st_nlink, content
            )
    return found


@pytest.fixture
def open_folder():
    """A folder every user can enter (mode 0755): only the grader's own measures protect
    what is inside (pytest's tmp_path is 0700 and would hide every attack's target)."""
    folder = Path(tempfile.mkdtemp(prefix="attn-grade-test-fs-", dir="/tmp"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def sandbox_uids(monkeypatch):
    """The sandbox uids of the gradings in this test."""
    uids: set[int] = set()

    def recorded():
        identity = real_new_identity()
        if identity is not None:
            uids.add(identity.uid)
        return identity

    monkeypatch.setattr(runner, "new_identity", recorded)
    return uids


@pytest.fixture
def namespaces(request, monkeypatch):
    monkeypatch.setenv("ATTN_GRADE_NAMESPACES", request.param)
    return request.param


def victims(folder: Path) -> Path:
    """Files the grader must never write: a root-owned file and folder outside the run."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "victim.txt").write_text("precious\n")
    (folder / "victim_dir").mkdir(exist_ok=True)
    return folder


# -- class 1: never write through a path the student controls ----------------------


@pytest.mark.timeout(180)
def test_check_replaces_planted_links_and_never_writes_through_them(tmp_path):
    """`check` on a folder with links planted at every name it writes: the heatmap, the
    visualize.py output and .attn-grade. Verdict: every test passes, visualize is done;
    the links' targets are untouched."""
    outside = victims(tmp_path / "outside")
    before = snapshot(outside)
    folder = copy_reference("lab01", tmp_path / "lab01")
    os.symlink(outside / "victim.txt", folder / "attention_heatmap.png")
    os.symlink(outside / "victim.txt", folder / "attn_grade_heatmap.png")
    os.symlink(outside / "victim_dir", folder / ".attn-grade")
    done = CliRunner().invoke(app, ["check", "lab01", "--path", str(folder), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.stdout)
    assert {t["status"] for t in report["tests"]} == {"passed"}
    assert {d["id"]: d["status"] for d in report["deliverables"]}["visualize"] == "done"
    assert snapshot(outside) == before
    for name in ("attention_heatmap.png", "attn_grade_heatmap.png"):
        st = (folder / name).lstat()
        assert stat.S_ISREG(st.st_mode) and (folder / name).read_bytes()[:4] == b"\x89PNG"
    assert (folder / ".attn-grade").is_symlink()  # refused: no report saved through it


ATTACKS = {
    # what visualize.py leaves at the path it was given instead of a PNG
    "symlink": "os.symlink({victim!r}, target)",
    "fifo": "os.mkfifo(target)",
    "hardlink": "open(target + '.x', 'wb').write(PNG)\nos.link(target + '.x', target)",
    "folder": "os.mkdir(target)",
    "link_to_own_folder": "os.symlink(os.getcwd(), target)",
}


@pytest.mark.timeout(180)
@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_a_script_output_that_is_not_a_plain_file_is_never_used(attack, tmp_path):
    """visualize.py leaves a link, a FIFO, a hard link or a folder where the PNG should be.
    Verdict: visualize is "incomplete" (no PNG written); the grader neither hangs nor
    follows the link, and nothing next to the code is written through it."""
    outside = victims(tmp_path / "outside")
    before = snapshot(outside)
    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "attention_heatmap.png").write_bytes(b"\x89PNG\r\n\x1a\n stale, planted")
    script = (
        "import os, sys\n"
        "PNG = b'\\x89PNG\\r\\n\\x1a\\n' + bytes(100)\n"
        "target = sys.argv[1]\n"
        + ATTACKS[attack].format(victim=str(outside / "victim.txt"))
        + "\n"
    )
    (folder / "visualize.py").write_text(script)
    result = grade("lab01", folder, hidden=False)
    visualize = {d.id: d for d in result.deliverables}["visualize"]
    assert (visualize.status, visualize.points) == ("incomplete", 0.0), visualize.message
    assert "wrote no attention_heatmap.png" in visualize.message
    assert snapshot(outside) == before
    assert not (folder / "attention_heatmap.png").exists()  # the stale file is gone too


@needs_root
@pytest.mark.timeout(180)
@NAMESPACES
def test_the_run_folder_cannot_be_renamed_or_replaced(namespaces, tmp_path, sandbox_uids):
    """The student renames its run folder (and its own folders in it) and plants links
    where the grader writes its next config. Verdict: every test passes (the attack is
    refused and the softmax is right); the grader's temp folder keeps its mode, the run
    leaves nothing, and the next grading works."""
    temp = Path(tempfile.gettempdir())
    mode_before = temp.stat().st_mode
    attack = SOFTMAX + (
        "import os\n\n"
        "def softmax(x, axis=-1):\n"
        "    work = os.getcwd()\n"
        "    run = os.path.dirname(work)\n"
        "    steps = [\n"
        "        lambda: os.rename(run, run + '-moved'),\n"
        "        lambda: os.rename(work, run + '/moved'),\n"
        "        lambda: os.symlink('/', run + '/config1.json'),\n"
        "        lambda: os.rename(run + '/out', run + '/out-moved'),\n"
        "        lambda: os.rename(run + '/request', run + '/request-moved'),\n"
        "        lambda: os.chmod(run, 0o777),\n"
        "    ]\n"
        "    for n, step in enumerate(steps):\n"
        "        try:\n"
        "            step()\n"
        "            print('DID', n)\n"
        "        except OSError:\n"
        "            pass\n"
        "    if not os.path.exists('crashed-once'):\n"
        "        open('crashed-once', 'w').close()\n"
        "        os.symlink(os.path.dirname(run), run + '/out/x')  # its own: allowed, unused\n"
        "        os._exit(9)  # the grader starts a new process: a new config, written later\n"
        "    return _softmax(x, axis)\n"
    )
    folder = build("nan_inf", tmp_path / "s")
    (folder / "softmax.py").write_text(attack)
    result = grade("lab01", folder, hidden=False, only=DEFAULT_ONLY)
    statuses = {t.name: t.status for t in result.tests}
    assert statuses == {"softmax_rows": "error", "softmax_axis_0": "passed",
                        "attention_single": "passed"}, result.tests
    assert "exit code 9" in result.tests[0].message
    assert "DID" not in result.student_output, result.student_output
    assert temp.stat().st_mode == mode_before
    assert not list(temp.glob("attn-grade-run-*-moved"))
    again = grade("lab01", build("nan_inf", tmp_path / "t"), hidden=False, only=DEFAULT_ONLY)
    assert [t.status for t in again.tests] == ["failed", "failed", "passed"]
    assert [describe(p) for p in sandbox_processes(sandbox_uids)] == []


@pytest.mark.timeout(300)
def test_batch_grades_a_private_copy_without_links_and_writes_nothing_into_submissions(
    tmp_path, open_folder
):
    """A submission folder whose softmax.py is a link to the reference, with a hard link
    and a FIFO beside it. Verdict: graded, every softmax test "error" (the link is not
    copied: no module softmax), and the submissions folder is exactly as it was."""
    subs = open_folder / "submissions"
    subs.mkdir()
    student = copy_reference("lab01", subs / "mallory")
    (student / "softmax.py").unlink()
    os.symlink(SOLUTIONS / "lab01" / "softmax.py", student / "softmax.py")
    os.link(student / "REPORT.md", student / "linked.md")
    os.mkfifo(student / "pipe")
    (student / "attention_heatmap.png").symlink_to(SOLUTIONS / "lab01" / "attention.py")
    reference_before = snapshot(SOLUTIONS / "lab01")
    before = snapshot(subs)
    out = open_folder / "results"
    config = batch.BatchConfig("lab01", SOLUTIONS / "lab01", out, png=True)
    task = batch.Task(batch.Entry("mallory", student), 5, "fp")
    report = batch.grade_entry(config, task)
    assert report["status"] == gb.GRADED
    softmax_tests = [t for t in report["tests"] if t["function"] == "softmax"]
    assert softmax_tests and {t["status"] for t in softmax_tests} == {"error"}
    assert "softmax" in softmax_tests[0]["message"]
    assert snapshot(subs) == before
    assert snapshot(SOLUTIONS / "lab01") == reference_before
    # results: the grader's alone, whatever the umask
    folder = gb.student_dir(out, "mallory")
    for path in [out / gb.STUDENTS_DIR, folder]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.lstat().st_mode) == 0o600, path


def test_gradescope_copy_is_private_and_has_plain_files_only(tmp_path):
    """The Gradescope copy of a submission: no link, hard link or FIFO survives, and
    nothing in it is writable (or readable) by another user."""
    from attn_grade.gradescope import student_copy

    submission = copy_reference("lab01", tmp_path / "submission")
    (submission / "link.py").symlink_to("/etc/passwd")
    os.link(submission / "REPORT.md", submission / "hard.md")
    os.mkfifo(submission / "pipe")
    with student_copy(submission) as copy:
        entries = snapshot(copy)
        assert "softmax.py" in entries and "attention.py" in entries
        assert not {"link.py", "hard.md", "pipe", "REPORT.md"} & set(entries)  # REPORT.md: 2 links
        for kind, mode, *_ in entries.values():
            assert kind in (stat.S_IFREG, stat.S_IFDIR) and mode & 0o077 == 0
        assert stat.S_IMODE(copy.stat().st_mode) == 0o700


# -- class 2: other students' files ------------------------------------------------------

SNOOP = SOFTMAX + '''
import os
import re

GRADER_TEMP = re.compile(r"/tmp/attn-grade-(run|batch|submission|gradescope|out|test-fs)-")

TARGETS = {targets!r}


def softmax(x, axis=-1):
    found = []
    for path in TARGETS:
        try:
            if os.path.isdir(path):
                found.append(path + ": " + ",".join(os.listdir(path)))
            else:
                found.append(path + ": " + open(path, "rb").read(40).hex())
        except OSError:
            pass
    mine = os.path.dirname(os.getcwd())
    for top in ("/tmp", "/var/tmp", "/dev/shm"):
        for parent, dirs, files in os.walk(top):
            if parent == top:  # where graders and tests keep their files, not a user's
                dirs[:] = [d for d in dirs if d.startswith(("attn-grade", "pytest-of"))]
            if parent.startswith(mine):
                continue
            for name in files:
                path = os.path.join(parent, name)
                try:
                    open(path, "rb").read(1)
                    if GRADER_TEMP.match(path):
                        found.append(path)
                except OSError:
                    pass
    cmdlines = 0
    for pid in os.listdir("/proc"):
        try:  # a process may end between listdir and stat
            if pid.isdigit() and os.stat("/proc/" + pid).st_uid != os.getuid():
                if open("/proc/" + pid + "/cmdline", "rb").read():
                    cmdlines += 1
        except OSError:
            pass
    print("CMDLINES", cmdlines)
    for line in found:
        print("READ", line)
    if found:
        return _softmax(x, axis)
    raise RuntimeError("nothing of another student was readable")
'''


@needs_root
@pytest.mark.timeout(300)
@NAMESPACES
def test_a_student_cannot_read_other_submissions_results_or_grader_temp(
    namespaces, open_folder, sandbox_uids
):
    """Mallory is graded after Alice, in the same batch, and knows every path: Alice's
    submission, her results, the gradebook folder. Verdict: every softmax test is "error"
    ("nothing of another student was readable"); Alice's files are intact. With mount
    namespaces no other process's command line can be read either."""
    subs, out = open_folder / "submissions", open_folder / "results"
    subs.mkdir()
    alice = copy_reference("lab01", subs / "alice")
    config = batch.BatchConfig("lab01", SOLUTIONS / "lab01", out, png=False)
    first = batch.grade_entry(config, batch.Task(batch.Entry("alice", alice), 3, "a"))
    assert first["status"] == gb.GRADED and first["score"] > 0
    targets = [
        str(subs),
        str(alice),
        str(alice / "softmax.py"),
        str(out),
        str(gb.student_dir(out, "alice")),
        str(gb.student_dir(out, "alice") / gb.REPORT_NAME),
        str(gb.student_dir(out, "alice") / gb.FEEDBACK_NAME),
        str(SOLUTIONS / "lab01" / "softmax.py"),
    ]
    mallory = copy_reference("lab01", subs / "mallory")
    (mallory / "softmax.py").write_text(SNOOP.format(targets=targets))
    alice_before, results_before = snapshot(alice), snapshot(gb.student_dir(out, "alice"))
    report = batch.grade_entry(config, batch.Task(batch.Entry("mallory", mallory), 4, "m"))
    softmax_tests = [t for t in report["tests"] if t["function"] == "softmax"]
    assert softmax_tests and {t["status"] for t in softmax_tests} == {"error"}, softmax_tests
    assert all(
        "nothing of another student was readable" in t["message"] for t in softmax_tests
    ), [t["message"] for t in softmax_tests]
    output = json.dumps(report.get("student_output", ""))
    assert "READ" not in output, output
    if namespaces == "on":
        assert "CMDLINES 0" in output, output
    assert snapshot(alice) == alice_before
    assert snapshot(gb.student_dir(out, "alice")) == results_before


# -- class 3: public expected values ----------------------------------------------------

FROZEN_PATH = Path(attn_grade.__file__).parent / "labs" / "lab01" / "public.npz"
CHEAT = '''
import os
import numpy as np
FROZEN = "@FROZEN@"  # the grader's own path to it (an attacker knows where the grader lives)


def softmax(x, axis=-1):
    """Return the frozen expected output of the public test whose input is x."""
    with np.load(FROZEN) as data:
        for key in data.files:
            if key.startswith("input/") and data[key].shape == np.shape(x):
                if np.array_equal(data[key], x):
                    test = key.split("/")[1]
                    return data["expected/" + test + "/0"]
    return np.zeros_like(x)
'''


@pytest.mark.timeout(300)
def test_frozen_public_expectations_are_no_answer_key_when_the_reference_is_present(tmp_path):
    """A softmax that returns public.npz's expected values for the input it recognises.
    With the reference present every test runs on fresh inputs. Verdict: as root each
    softmax test is "error" (PermissionError: the sandbox uid cannot read public.npz);
    as a normal user each is "failed" (no input matches, zeros come back)."""
    folder = build("nan_inf", tmp_path / "s")
    (folder / "softmax.py").write_text(CHEAT.replace("@FROZEN@", str(FROZEN_PATH)))
    reference_before = snapshot(SOLUTIONS / "lab01")
    result = grade("lab01", folder, solutions=SOLUTIONS / "lab01", seed=7, deliverables=False)
    softmax_tests = [t for t in result.tests if t.function == "softmax"]
    public = [t for t in softmax_tests if t.visibility == "public"]
    assert public and softmax_tests
    expected = "error" if ROOT else "failed"
    assert {t.status for t in softmax_tests} == {expected}, [
        (t.name, t.status, t.message) for t in softmax_tests
    ]
    if ROOT:
        # refused by its permissions, or absent where a private /tmp hides the clone
        assert all(
            "PermissionError" in t.message or "FileNotFoundError" in t.message
            for t in softmax_tests
        ), [t.message for t in softmax_tests]
    assert snapshot(SOLUTIONS / "lab01") == reference_before


@pytest.mark.timeout(300)
def test_public_tests_run_on_fresh_inputs_even_when_public_npz_is_readable(
    tmp_path, monkeypatch
):
    """The same cheat with public.npz readable for the student (as on a laptop, or in a
    container without namespaces where the package was installed world-readable): the
    fresh inputs alone defeat it. Verdict: every softmax test "failed"."""
    import attn_grade
    from attn_grade import grading

    monkeypatch.setenv("ATTN_GRADE_NAMESPACES", "off")
    monkeypatch.setattr(runner, "private_reference", lambda: None)
    monkeypatch.setattr(grading, "keep_private", lambda *paths: None)
    frozen = Path(attn_grade.__file__).parent / "labs" / "lab01" / "public.npz"
    frozen.chmod(0o644)
    folder = build("nan_inf", tmp_path / "s")
    # the student has public.npz itself (it ships with the student kit): a copy of its own
    (folder / "public.npz").write_bytes(FROZEN_PATH.read_bytes())
    own_copy = 'os.path.join(os.path.dirname(os.path.abspath(__file__)), "public.npz")'
    (folder / "softmax.py").write_text(CHEAT.replace('"@FROZEN@"', own_copy))
    result = grade("lab01", folder, solutions=SOLUTIONS / "lab01", seed=7, deliverables=False)
    softmax_tests = [t for t in result.tests if t.function == "softmax"]
    assert softmax_tests and {t.status for t in softmax_tests} == {"failed"}, [
        (t.name, t.status, t.message) for t in softmax_tests
    ]


@needs_root
@pytest.mark.timeout(120)
@NAMESPACES
def test_the_sandbox_uid_cannot_read_the_frozen_data_or_the_reference(namespaces, tmp_path):
    """Probe from the sandbox uid's side: open public.npz, the reference, the clone's
    .git and tests.
    Verdict for each: refused (no byte read)."""
    import attn_grade

    labs = Path(attn_grade.__file__).parent / "labs"
    paths = [labs / "lab01" / "public.npz", SOLUTIONS / "lab01" / "attention.py"]
    # a clone's git history holds every solution and public.npz, its tests correct code
    paths += [p for p in (KIT_ROOT / ".git" / "HEAD", KIT_ROOT / "tests" / "conftest.py")
              if p.exists()]
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "probe.py").write_text(
        "import numpy as np\n\n"
        "def read(paths):\n"
        "    got = []\n"
        "    for p in " + repr([str(p) for p in paths]) + ":\n"
        "        try:\n"
        "            got.append(len(open(p, 'rb').read()))\n"
        "        except OSError:\n"
        "            got.append(-1)\n"
        "    return np.array(got, dtype=float)\n"
    )
    record = runner.run_calls(probe, [runner.Call("r", "probe", "read", [0], {}, 1)])
    outcome = record.outcomes["r"]
    assert outcome.status == "ok", outcome.message
    assert list(outcome.outputs[0]) == [-1.0] * len(paths)


# -- class 8: leftovers -----------------------------------------------------------------

LITTER = SOFTMAX + '''
import ctypes
import os
import subprocess
import sys

libc = ctypes.CDLL(None, use_errno=True)
IPC_CREAT = 0o1000
KEYCTL, ADD_KEY = {keyctl}, {add_key}


def softmax(x, axis=-1):
    for n, folder in enumerate(["/tmp", "/var/tmp", "/dev/shm", "/run/lock"]):
        with open(os.path.join(folder, "litter-%d-%d" % (os.getuid(), n)), "w") as f:
            f.write("left behind")
        os.makedirs(os.path.join(folder, "litter-dir-%d" % os.getuid()), exist_ok=True)
    ring = libc.syscall(KEYCTL, 22, -1, -2)  # its persistent keyring: outlives processes
    made = [libc.syscall(ADD_KEY, b"user", b"litter", b"left behind", 11, ring)]
    made += [libc.shmget(0, 4096, IPC_CREAT | 0o600)]  # key 0: IPC_PRIVATE, always new
    made += [libc.semget(0, 1, IPC_CREAT | 0o600), libc.msgget(0, IPC_CREAT | 0o600)]
    if min(made) < 0:
        raise RuntimeError("the litter could not be made: %r" % made)
    subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
    )
    return _softmax(x, axis)
'''


SYSCALLS = {"x86_64": (250, 248), "aarch64": (219, 217)}.get(os.uname().machine, (-1, -1))


def keys_of(uids: set[int]) -> list[int]:
    """Keys of each uid still found in its persistent keyring, searched as that uid.
    (Not from /proc/key-users: the kernel frees a uid's entry some time after its keys.)"""
    import ctypes

    syscall = ctypes.CDLL(None, use_errno=True).syscall
    found = []
    for uid in uids:
        read, write = os.pipe()
        if os.fork() == 0:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            ring = syscall(SYSCALLS[0], 22, -1, -2)
            key = syscall(SYSCALLS[0], 10, ring, b"user", b"litter", 0)  # KEYCTL_SEARCH
            os.write(write, str(key).encode())
            os._exit(0)
        os.close(write)
        os.wait()
        key = int(os.read(read, 32) or b"-1")
        os.close(read)
        if key > 0:
            found.append(key)
    return found


def ipc_of(uids: set[int]) -> list[str]:
    found = []
    for kind in ("shm", "sem", "msg"):
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        header = lines[0].split()
        for line in lines[1:]:
            row = dict(zip(header, line.split()))
            if int(row["uid"]) in uids or int(row["cuid"]) in uids:
                found.append(f"{kind}: {line}")
    return found


def files_of(uids: set[int], folders: list[str]) -> list[str]:
    found = []
    stack = list(folders)  # an explicit stack: os.walk recurses, and trees can be deep
    while stack:
        try:
            with os.scandir(stack.pop()) as listing:
                entries = list(listing)
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid in uids:
                    found.append(entry.path)
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
            except OSError:
                pass
    return found


@needs_root
@pytest.mark.timeout(300)
@NAMESPACES
def test_a_run_leaves_no_files_ipc_objects_or_processes(namespaces, tmp_path, sandbox_uids):
    """Files and folders in every world-writable folder, SysV shared memory, a semaphore
    and a message queue, a key in its persistent keyring, and a daemon in a session of
    its own. Verdict: every test
    passes; afterwards nothing of the run's uid is left anywhere."""
    folder = build("nan_inf", tmp_path / "s")
    (folder / "softmax.py").write_text(
        LITTER.replace("{keyctl}", str(SYSCALLS[0])).replace("{add_key}", str(SYSCALLS[1]))
    )
    result = grade("lab01", folder, hidden=False, only=DEFAULT_ONLY)
    assert {t.name: t.status for t in result.tests} == dict.fromkeys(DEFAULT_ONLY, "passed"), [
        t.message for t in result.tests
    ]
    assert sandbox_uids
    assert ipc_of(sandbox_uids) == []
    assert keys_of(sandbox_uids) == []
    assert files_of(sandbox_uids, launch.world_writable_folders()) == []
    assert [describe(p) for p in sandbox_processes(sandbox_uids)] == []
    assert not any(alive(p) for p in sandbox_processes(sandbox_uids))


def test_a_wide_or_deep_submission_is_copied_with_few_descriptors(tmp_path):
    """600 folders side by side and 40 nested: the copy keeps only the current path open
    (a submission must never make the grader run out of descriptors: a grader error)."""
    import resource

    from attn_grade.safe_files import copy_tree

    source = tmp_path / "wide"
    for n in range(600):
        (source / f"d{n}").mkdir(parents=True)
        (source / f"d{n}" / "f.py").write_text("x = 1\n")
    deep = source / "deep"
    for n in range(40):
        deep = deep / f"{n}"
    deep.mkdir(parents=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(128, hard), hard))
    try:
        copy_tree(source, tmp_path / "copy", 1 << 20, max_depth=32)
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    copied = snapshot(tmp_path / "copy")
    assert sum(1 for name in copied if name.endswith("f.py")) == 600
    assert max(len(Path(name).parts) for name in copied) == 32  # deeper ones are left out


@pytest.mark.timeout(300)
def test_a_submission_entry_that_is_a_link_to_another_students_is_invalid(tmp_path):
    """bob.py in the submissions folder is a link to alice.py (a folder entry: a link to
    her folder). Verdict: "invalid", score 0, naming the link; alice's file untouched."""
    subs = tmp_path / "submissions"
    alice = copy_reference("lab01", subs / "alice")
    (subs / "bob.py").symlink_to(alice / "softmax.py")
    (subs / "carol").symlink_to(alice)
    before = snapshot(alice)
    config = batch.BatchConfig("lab01", SOLUTIONS / "lab01", tmp_path / "out", png=False)
    for name, path in (("bob", subs / "bob.py"), ("carol", subs / "carol")):
        report = batch.grade_entry(config, batch.Task(batch.Entry(name, path), 1, name))
        assert (report["status"], report["score"]) == (gb.INVALID, 0.0), report
        assert "symbolic link" in report["error"]
    assert snapshot(alice) == before


DEEP_TREE = '''
import os

def _deep(levels):
    here = os.getcwd()
    for _ in range(levels):
        os.mkdir("d")
        os.chdir("d")
    os.chdir(here)

_deep(1500)  # deeper than Python's recursion limit, and than PATH_MAX as a path
'''


@pytest.mark.timeout(300)
def test_a_tree_deeper_than_the_recursion_limit_is_no_grader_error(tmp_path):
    """A submission that builds a 1500-deep folder tree where it runs, and one handed in
    with such a tree. Verdict: graded like any other (the reference's code: every test
    passed); the grader removes the tree, and no run folder is left behind."""
    folder = build("nan_inf", tmp_path / "s")
    (folder / "softmax.py").write_text(
        (SOLUTIONS / "lab01" / "softmax.py").read_text() + DEEP_TREE
    )
    deep = folder / "notes"
    deep.mkdir()
    os.chdir(deep)
    try:
        for _ in range(1200):
            os.mkdir("d")
            os.chdir("d")
    finally:
        os.chdir(tmp_path)
    try:
        before = set(os.listdir(tempfile.gettempdir()))
        result = grade("lab01", folder, hidden=False, only=DEFAULT_ONLY)
        statuses = {t.status for t in result.tests}
        assert statuses == {"passed"}, [(t.name, t.message) for t in result.tests]
        ours = re.compile(rf"^attn-grade-[a-z]+-{os.getpid()}-")  # not another process's
        left = {n for n in set(os.listdir(tempfile.gettempdir())) - before if ours.match(n)}
        assert left == set()
        assert len(batch.fingerprint(folder)) == 64  # the batch's fingerprint walks it too
    finally:
        remove_tree(deep)  # pytest's own clean-up of old tmp_paths recurses


def test_remove_tree_removes_what_shutil_rmtree_cannot(tmp_path):
    top = tmp_path / "top"
    top.mkdir()
    os.chdir(top)
    try:
        for n in range(1500):
            os.mkdir("d")
            os.chdir("d")
            if n % 100 == 0:
                Path("f").write_text("x")
                os.symlink(tmp_path / "keep", "link")
    finally:
        os.chdir(tmp_path)
    (tmp_path / "keep").write_text("kept")
    remove_tree(top)
    assert not top.exists()
    assert (tmp_path / "keep").read_text() == "kept"  # a link in the tree is never followed


def test_a_checklist_or_report_that_is_a_link_is_not_read(tmp_path):
    """CHECKLIST.md and REPORT.md linked to a file elsewhere (as root, `check` on a folder
    someone else controls could read any file through them). Verdict: no checklist items,
    REPORT.md 'missing'; the linked file's text appears nowhere."""
    from attn_grade import deliverables
    from attn_grade.labspec import DeliverableSpec

    secret = tmp_path / "secret.md"
    secret.write_text("- [x] SECRET item <!-- check: visualize -->\n# (a) SECRET answer words\n")
    folder = tmp_path / "lab"
    folder.mkdir()
    (folder / "CHECKLIST.md").symlink_to(secret)
    (folder / "REPORT.md").symlink_to(secret)
    assert deliverables.read_checklist(folder / "CHECKLIST.md", [], []) == []
    spec = DeliverableSpec("a", "report-answer", "title", 1.0,
                           {"file": "REPORT.md", "section": "(a)", "min_words": 1})
    result = deliverables.check_deliverables((spec,), folder, {}, None)[0]
    assert result.status == "missing" and "SECRET" not in result.message
