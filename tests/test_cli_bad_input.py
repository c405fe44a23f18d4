"""Every command, fed bad values through the real `attn-grade` command: exit code 2, one clear
line on stderr, no traceback, and nothing written where it should not be.

Each case fails before any grading starts, so the whole table runs in about a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import KIT_ROOT, SOLUTIONS, copy_reference

NOWHERE = "/nonexistent-attn-grade-test"  # as root, only a parent that is absent stops mkdir
UNWRITABLE = "/proc/attn-grade-test"  # /proc refuses new entries, even to root

GRADE = ["grade", "lab01", "{subs}", "--out", "{tmp}/results"]
GRADESCOPE = ["gradescope", "lab01", "-o", "{tmp}/autograder.zip"]
CHECK = ["check", "lab01", "--path", "{ref}", "--no-png"]

CASES = {
    # check
    "check unknown lab": (["check", "lab99"], {}, "Unknown lab 'lab99'"),
    "check no lab": (["check"], {}, "Missing argument"),
    "check unknown option": ([*CHECK, "--bogus"], {}, "No such option"),
    "check negative seed": ([*CHECK, "--seed", "-1"], {}, "--seed"),
    "check seed not a number": ([*CHECK, "--seed", "abc"], {}, "--seed"),
    "check missing path": (["check", "lab01", "--path", "{tmp}/nothing"], {}, "No folder or file"),
    "check missing solutions": ([*CHECK, "--solutions", "{tmp}/nothing"], {}, "--solutions"),
    "check solutions is a file": ([*CHECK, "--solutions", "{tmp}/afile"], {}, "--solutions"),
    "check solutions without the lab": (
        [*CHECK, "--solutions", "{tmp}/empty"], {}, "holds no reference of lab01"),
    "check solutions of another lab": (
        [*CHECK, "--solutions", "{kit}/solutions/lab02"], {}, "holds no reference of lab01"),
    "check bad lang": ([*CHECK, "--lang", "fr"], {}, "--lang must be en or pt"),
    "check zero time limit": ([*CHECK, "--time-limit", "0"], {}, "--time-limit"),
    "check nan time limit": ([*CHECK, "--time-limit", "nan"], {}, "--time-limit"),
    "check negative time budget": ([*CHECK, "--time-budget", "-1"], {}, "--time-budget"),
    "check inf time budget": ([*CHECK, "--time-budget", "inf"], {}, "--time-budget"),
    "check budget not a number": (CHECK, {"ATTN_GRADE_TIME_BUDGET": "abc"}, "not a number"),
    "check time limit not a number": (CHECK, {"ATTN_GRADE_TIME_LIMIT": "abc"}, "not a number"),
    "check time limit zero": (CHECK, {"ATTN_GRADE_TIME_LIMIT": "0"}, "ATTN_GRADE_TIME_LIMIT"),
    "check time limit negative": (CHECK, {"ATTN_GRADE_TIME_LIMIT": "-1"}, "positive"),
    "check time limit nan": (CHECK, {"ATTN_GRADE_TIME_LIMIT": "nan"}, "positive"),
    "check time limit inf": (CHECK, {"ATTN_GRADE_TIME_LIMIT": "inf"}, "positive"),
    "check memory not a number": (CHECK, {"ATTN_GRADE_MEMORY_MB": "lots"}, "ATTN_GRADE_MEMORY_MB"),
    "check processes zero": (CHECK, {"ATTN_GRADE_PROCESSES": "0.2"}, "ATTN_GRADE_PROCESSES"),
    "check bad sandbox": (CHECK, {"ATTN_GRADE_SANDBOX": "x"}, "use zygote or spawn"),
    "check missing solutions variable": (
        CHECK, {"ATTN_GRADE_SOLUTIONS": "{tmp}/nothing"}, "ATTN_GRADE_SOLUTIONS"),
    # list
    "list extra argument": (["list", "extra"], {}, "unexpected extra argument"),
    "list bad language variable": (["list"], {"ATTN_GRADE_LANG": "xx"},
                                   "ATTN_GRADE_LANG must be en or pt, not 'xx'"),
    "check bad language variable beside --lang": (
        [*CHECK, "--lang", "en"], {"ATTN_GRADE_LANG": "french"}, "ATTN_GRADE_LANG"),
    "unknown command": (["lint"], {}, "No such command"),
    # freeze, sync
    "freeze unknown lab": (["freeze", "lab99"], {}, "Unknown lab"),
    "freeze solutions without the lab": (
        ["freeze", "lab01", "--solutions", "{tmp}/empty"], {}, "holds no reference"),
    "freeze missing solutions": (
        ["freeze", "lab01", "--solutions", "{tmp}/nothing"], {}, "--solutions"),
    "sync unknown lab": (["sync", "lab99"], {}, "Unknown lab"),
    "sync solutions without the lab": (
        ["sync", "lab01", "--solutions", "{tmp}/empty"], {}, "holds no reference"),
    "sync check solutions is a file": (
        ["sync", "lab01", "--check", "--solutions", "{tmp}/afile"], {}, "--solutions"),
    # reading, progress
    "reading unknown lab": (["reading", "lab99"], {}, "lab99"),
    "reading bad kind": (["reading", "--kind", "poem"], {}, "Unknown kind"),
    "reading bad language": (["reading", "--lang", "fr"], {}, "Unknown language"),
    "progress missing folder": (["progress", "--path", "{tmp}/nothing"], {}, "No folder"),
    "progress path is a file": (["progress", "--path", "{tmp}/afile"], {}, "No folder"),
    # grade
    "grade unknown lab": (["grade", "lab99", "{subs}", "--out", "{tmp}/results"], {}, "Unknown lab"),
    "grade no out": (["grade", "lab01", "{subs}"], {}, "--out"),
    "grade missing submissions": (
        ["grade", "lab01", "{tmp}/nothing", "--out", "{tmp}/results"], {}, "nothing"),
    "grade submissions is a file": (
        ["grade", "lab01", "{tmp}/afile", "--out", "{tmp}/results"], {}, "afile"),
    "grade out is a file": (["grade", "lab01", "{subs}", "--out", "{tmp}/afile"], {}, "is a file"),
    "grade out under a file": (
        ["grade", "lab01", "{subs}", "--out", "{tmp}/afile/results"], {}, "afile"),
    "grade out unwritable": (["grade", "lab01", "{subs}", "--out", UNWRITABLE], {}, UNWRITABLE),
    "grade out inside submissions": (
        ["grade", "lab01", "{subs}", "--out", "{subs}/results"], {}, "would be graded"),
    "grade zero jobs": ([*GRADE, "--jobs", "0"], {}, "--jobs"),
    "grade negative jobs": ([*GRADE, "--jobs", "-2"], {}, "--jobs"),
    "grade jobs not a number": ([*GRADE, "--jobs", "many"], {}, "--jobs"),
    "grade zero time limit": ([*GRADE, "--time-limit", "0"], {}, "--time-limit"),
    "grade negative time limit": ([*GRADE, "--time-limit", "-1"], {}, "--time-limit"),
    "grade nan time limit": ([*GRADE, "--time-limit", "nan"], {}, "--time-limit"),
    "grade inf time limit": ([*GRADE, "--time-limit", "inf"], {}, "--time-limit"),
    "grade negative seed": ([*GRADE, "--seed", "-3"], {}, "--seed"),
    "grade bad lang": ([*GRADE, "--lang", "fr"], {}, "--lang must be en or pt"),
    "grade solutions without the lab": (
        [*GRADE, "--solutions", "{tmp}/empty"], {}, "holds no reference"),
    "grade missing solutions": ([*GRADE, "--solutions", "{tmp}/nothing"], {}, "--solutions"),
    "grade time limit variable": (GRADE, {"ATTN_GRADE_TIME_LIMIT": "abc"}, "not a number"),
    "grade bad sandbox": (GRADE, {"ATTN_GRADE_SANDBOX": "x"}, "use zygote or spawn"),
    "grade disk variable": (GRADE, {"ATTN_GRADE_DISK_MB": "-5"}, "ATTN_GRADE_DISK_MB"),
    # gradescope
    "gradescope unknown lab": (["gradescope", "lab99"], {}, "Unknown lab"),
    "gradescope output is a folder": (["gradescope", "lab01", "-o", "{tmp}"], {}, "is a folder"),
    "gradescope output in a missing folder": (
        ["gradescope", "lab01", "-o", f"{NOWHERE}/x.zip"], {}, "does not exist"),
    "gradescope output under a file": (
        ["gradescope", "lab01", "-o", "{tmp}/afile/x.zip"], {}, "afile"),
    "gradescope bad visibility": (
        [*GRADESCOPE, "--hidden-visibility", "sometimes"], {}, "--hidden-visibility"),
    "gradescope missing wheel": ([*GRADESCOPE, "--wheel", "{tmp}/nothing.whl"], {}, "--wheel"),
    "gradescope wheel is a folder": ([*GRADESCOPE, "--wheel", "{tmp}/empty"], {}, "--wheel"),
    "gradescope wheel is not a wheel": ([*GRADESCOPE, "--wheel", "{tmp}/afile"], {}, "not a wheel"),
    "gradescope solutions of another lab": (
        [*GRADESCOPE, "--solutions", "{kit}/solutions/lab02"], {}, "holds no reference of lab01"),
    "gradescope missing solutions": ([*GRADESCOPE, "--solutions", "{tmp}/nothing"], {}, "--solutions"),
    # nbgrader
    "nbgrader unknown lab": (["nbgrader", "lab99", "{tmp}/course"], {}, "Unknown lab"),
    "nbgrader course is a file": (["nbgrader", "lab01", "{tmp}/afile"], {}, "is a file"),
    "nbgrader course unwritable": (["nbgrader", "lab01", UNWRITABLE], {}, UNWRITABLE),
    "nbgrader zero timeout": (
        ["nbgrader", "lab01", "{tmp}/course", "--timeout", "0"], {}, "--timeout"),
    "nbgrader negative timeout": (
        ["nbgrader", "lab01", "{tmp}/course", "--timeout", "-5"], {}, "--timeout"),
    "nbgrader empty course id": (
        ["nbgrader", "lab01", "{tmp}/course", "--course-id", " "], {}, "--course-id"),
    "nbgrader solutions without the lab": (
        ["nbgrader", "lab01", "{tmp}/course", "--solutions", "{tmp}/empty"], {}, "holds no reference"),
    # release
    "release into a file": (["release", "{tmp}/afile"], {}, "is a file"),
    "release into a non-empty folder": (["release", "{tmp}/full"], {}, "not empty"),
    "release unwritable": (["release", UNWRITABLE], {}, UNWRITABLE),
    # missing/../x is x (never "missing/ made, then x written in"), in every written path
    "release into a non-empty folder through a missing one": (
        ["release", "{tmp}/missing/../full", "--lab", "lab01"], {}, "full is not empty"),
    "grade out through a missing folder is a file": (
        ["grade", "lab01", "{subs}", "--out", "{tmp}/missing/../afile"], {}, "afile is a file"),
    "gradescope output through a missing folder is a folder": (
        ["gradescope", "lab01", "-o", "{tmp}/missing/../empty"], {}, "empty is a folder"),
    "nbgrader course through a missing folder is a file": (
        ["nbgrader", "lab01", "{tmp}/missing/../afile"], {}, "afile is a file"),
    "release unknown lab": (["release", "{tmp}/kit", "--lab", "lab99"], {}, "Unknown lab"),
    "release solutions without the labs": (
        ["release", "{tmp}/kit", "--solutions", "{tmp}/empty"], {}, "holds no reference"),
}


@pytest.fixture(scope="module")
def places(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("bad-input")
    (tmp / "afile").write_text("not a folder\n")
    (tmp / "empty").mkdir()
    (tmp / "full").mkdir()
    (tmp / "full" / "something").write_text("x\n")
    ref = copy_reference("lab01", tmp / "ref" / "lab01")
    copy_reference("lab01", tmp / "subs" / "alice")
    return {"tmp": str(tmp), "ref": str(ref), "subs": str(tmp / "subs"), "kit": str(KIT_ROOT)}


def attn_grade(args: list[str], env: dict[str, str], cwd: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("ATTN_GRADE_")}
    return subprocess.run(
        [sys.executable, "-m", "attn_grade", *args], cwd=cwd, capture_output=True, text=True,
        env={**clean, "COLUMNS": "200", "NO_COLOR": "1", **env}, timeout=300,
    )


def assert_one_clear_line(done: subprocess.CompletedProcess, expected: str) -> str:
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("attn-grade: ") and expected in lines[0], lines[0]
    return lines[0]


@pytest.mark.parametrize("name", CASES)
def test_bad_input_is_one_clear_line_and_exit_2(name, places):
    args, env, expected = CASES[name]
    args = [a.format(**places) for a in args]
    env = {k: v.format(**places) for k, v in env.items()}
    done = attn_grade(args, env, cwd=places["tmp"])
    assert_one_clear_line(done, expected.format(**places))
    assert done.stdout == ""
    assert not Path(NOWHERE).exists()
    assert not (Path(places["tmp"]) / "autograder.zip").exists()
    assert not list(Path(places["tmp"]).glob("results/*"))
    assert not (Path(places["tmp"]) / "missing").exists()
    assert [p.name for p in (Path(places["tmp"]) / "full").iterdir()] == ["something"]


def test_every_command_has_bad_input_cases():
    import typer
    from attn_grade.cli import app

    registered = set(typer.main.get_command(app).commands)
    assert {"check", "list", "freeze", "sync", "reading", "progress", "grade", "gradescope",
            "nbgrader", "release"} <= registered
    assert registered <= {args[0] for args, _, _ in CASES.values()}


@pytest.mark.parametrize(
    "args",
    [
        ["check", "lab99", "--json"],
        ["check", "lab01", "--seed", "-1", "--json"],
        ["check", "lab01", "--path", "{tmp}/nothing", "--json"],
        ["check", "lab01", "--path", "{ref}", "--solutions", "{tmp}/empty", "--json"],
        ["progress", "--path", "{tmp}/nothing", "--json"],
    ],
)
def test_with_json_an_error_is_one_json_object_on_stdout(args, places):
    done = attn_grade([a.format(**places) for a in args], {}, cwd=places["tmp"])
    line = assert_one_clear_line(done, "")
    error = json.loads(done.stdout)  # fails if anything else is on stdout
    assert error == {"error": line.removeprefix("attn-grade: "), "exit_code": 2}


def test_an_explicit_solutions_folder_is_the_one_bundled(places, tmp_path):
    """gradescope --solutions DIR bundles DIR's reference, never the clone's."""
    import zipfile

    mine = copy_reference("lab01", tmp_path / "mine" / "lab01")
    (mine / "known_mistakes.py").write_text(
        (SOLUTIONS / "lab01" / "known_mistakes.py").read_text(encoding="utf-8"))
    (mine / "softmax.py").write_text(
        (mine / "softmax.py").read_text(encoding="utf-8") + "\n# the instructor's own copy\n")
    wheel = tmp_path / "attn_grade-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not really a wheel, but the bundle only ships it")
    target = tmp_path / "autograder.zip"
    done = attn_grade(["gradescope", "lab01", "-o", str(target), "--solutions", str(mine.parent),
                       "--wheel", str(wheel)], {}, cwd=str(tmp_path))
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(target) as bundle:
        softmax = bundle.read("solutions/lab01/softmax.py").decode()
    assert "the instructor's own copy" in softmax


PORTUGUESE_ERRORS = {  # instructors' commands: the error in --lang's language, else the default's
    "grade": (["grade", "lab06", "{tmp}/nothing", "--out", "{tmp}/results", "--lang", "pt"], {},
              "não é uma pasta de entregas"),
    "gradescope by the variable": (["gradescope", "lab07"], {"ATTN_GRADE_LANG": "pt"},
                                   "Lab desconhecido"),
    "gradescope output": (["gradescope", "lab01", "-o", "{tmp}", "--lang", "pt"], {}, "é uma pasta"),
    "release": (["release", "{tmp}/full", "--lang", "pt"], {}, "não está vazia"),
    "nbgrader": (["nbgrader", "lab01", "{tmp}/afile", "--lang", "pt"], {}, "é um arquivo"),
    "nbgrader by the locale": (["nbgrader", "lab01", "{tmp}/course", "--course-id", " "],
                               {"LANG": "pt_BR.UTF-8"}, "--course-id não pode ficar vazio"),
    "grade solutions": (["grade", "lab01", "{subs}", "--out", "{tmp}/results", "--solutions",
                         "{tmp}/empty"], {"ATTN_GRADE_LANG": "pt"}, "não contém a referência"),
}


@pytest.mark.parametrize("name", PORTUGUESE_ERRORS)
def test_instructors_errors_follow_the_language_choice(name, places):
    """The README: errors of the command line follow --lang, else ATTN_GRADE_LANG, else the
    locale; instructors' commands too (what they write stays English unless --lang)."""
    args, env, expected = PORTUGUESE_ERRORS[name]
    done = attn_grade([a.format(**places) for a in args], env, cwd=places["tmp"])
    assert_one_clear_line(done, expected)
    assert not list(Path(places["tmp"]).glob("results/*"))


@pytest.mark.parametrize("command", ["check", "list", "grade", "gradescope", "release"])
def test_help_still_works_and_exits_0(command):
    done = attn_grade([command, "--help"], {}, cwd=str(KIT_ROOT))
    assert done.returncode == 0, done.stderr
    assert "Usage" in done.stdout and done.stderr == ""
