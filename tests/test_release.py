"""`attn-grade release OUT_DIR`: a student kit with no solution, that installs and checks lab01."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from attn_grade.cli import app
from attn_grade.labspec import lab_ids, load_lab
from attn_grade.reference import KIT_ROOT, find_solutions
from attn_grade.release import build_release, public_spec
from attn_grade.stubs import exercise_files, solution_bodies
from conftest import write_stubs
from typer.testing import CliRunner

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

RELEASED = [lab for lab in lab_ids() if load_lab(lab).public_data_path.is_file()]


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    """The kit `attn-grade release` writes, with the handouts as committed (the working
    tree's exercises/ may hold a student's answers, which the command would refuse)."""
    root = tmp_path_factory.mktemp("release")
    for lab in RELEASED:
        write_stubs(lab, root / "handouts" / lab)
    specs = [load_lab(lab) for lab in RELEASED]
    build_release(root / "kit", specs, {s.id: find_solutions(s) for s in specs},
                  handouts=root / "handouts")
    return root / "kit"


def test_the_kit_holds_no_solution_code(kit):
    assert not list(kit.rglob("solutions")) and not list(kit.rglob("known_mistakes.py"))
    bodies = [
        body
        for path in sorted((KIT_ROOT / "solutions").glob("*/*.py"))
        for body in solution_bodies(path.read_text(encoding="utf-8"))
    ]
    assert bodies
    for path in (p for p in kit.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for body in bodies:
            assert body not in text, f"{path} holds solution code"


def test_the_kit_holds_no_hidden_test(kit):
    for lab_id in RELEASED:
        original = load_lab(lab_id)
        released = tomllib.loads(
            (kit / "grader" / "attn_grade" / "labs" / lab_id / "lab.toml").read_text("utf-8")
        )
        names = [t["name"] for t in released["tests"]]
        assert names == [t.name for t in original.tests_with("public")]
        assert {t.get("visibility", "public") for t in released["tests"]} == {"public"}
        for test in original.tests_with("hidden"):
            assert test.name not in json.dumps(released)
        assert (kit / "grader" / "attn_grade" / "labs" / lab_id / "public.npz").is_file()


def test_the_exercises_are_the_stubs_of_the_reference(kit):
    for lab_id in RELEASED:
        lab = load_lab(lab_id)
        for name, text in exercise_files(lab, find_solutions(lab)).items():
            assert (kit / "exercises" / lab_id / name).read_text(encoding="utf-8") == text
        assert (kit / "exercises" / lab_id / "README.md").is_file()
    assert (kit / "README.md").is_file() and (kit / "pyproject.toml").is_file()


def test_a_release_goes_to_a_new_or_empty_folder(kit):
    result = CliRunner().invoke(app, ["release", str(kit)])
    assert result.exit_code == 2
    assert "not empty" in result.output


def test_public_spec_keeps_the_comments_that_follow_a_hidden_test():
    spec = (KIT_ROOT / "grader" / "attn_grade" / "labs" / "lab01" / "lab.toml").read_text()
    public = public_spec(spec)
    assert "# -------------------------------------------------------------- attention tests" in (
        public
    )
    assert 'visibility = "hidden"' not in public


RUNTIME_DEPENDENCIES = {"numpy", "matplotlib", "pillow", "typer", "rich", "nbformat", "tomli"}


def test_the_kit_installs_in_a_fresh_venv_and_checks_lab01(kit, tmp_path):
    """Installed the way students do, `pip install ./kit` (an isolated build: pip brings the
    build's setuptools from the package index or its find-links, whatever setuptools the
    venv has). The venv sees this interpreter's packages (numpy...), so nothing else is
    downloaded. The kit needs the runtime dependencies only, and refuses to grade with a
    reference (its lab specs have no hidden tests)."""
    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)],
        check=True,
    )
    python, script = venv / "bin" / "python", venv / "bin" / "attn-grade"
    copy = tmp_path / "kit"
    shutil.copytree(kit, copy)
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", str(copy)], capture_output=True, text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    env = {k: v for k, v in os.environ.items() if k != "ATTN_GRADE_SOLUTIONS"}

    where = subprocess.run(
        [python, "-c", "import attn_grade, importlib.metadata as m; print(attn_grade.__file__);"
         "print('\\n'.join(m.requires('attn-grade')))"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    location, *requirements = where.stdout.splitlines()
    assert Path(location).is_relative_to(venv)
    runtime = {re.split(r"[<>=;\[ ]", r)[0] for r in requirements if "extra ==" not in r}
    assert runtime == RUNTIME_DEPENDENCIES, "a student installs the runtime dependencies only"

    stubs = subprocess.run(
        [script, "check", "lab01", "--no-png"], cwd=copy, env=env, capture_output=True, text=True
    )
    assert stubs.returncode == 1, stubs.stdout + stubs.stderr
    assert "Hidden tests are not included here: they run at grading" in stubs.stdout
    portuguese = subprocess.run(  # the compiled catalog travels with the kit
        [script, "check", "lab01", "--no-png", "--lang", "pt"], cwd=copy, env=env,
        capture_output=True, text=True,
    )
    assert "Os testes ocultos não entram aqui" in portuguese.stdout, portuguese.stderr

    answers = tmp_path / "answers"
    answers.mkdir()
    for module in load_lab("lab01").modules:
        shutil.copy2(KIT_ROOT / "solutions" / "lab01" / f"{module}.py", answers)
    (tmp_path / "solutions").mkdir()  # a student's own folder named solutions: not a reference
    for module in load_lab("lab01").modules:
        shutil.copy2(answers / f"{module}.py", tmp_path / "solutions")
    checked = subprocess.run(
        [script, "check", "lab01", "--path", answers, "--json", "--no-png"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    report = json.loads(checked.stdout)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert report["hidden_tests_ran"] is False
    assert (
        report["public_passed"]
        == report["public_total"]
        == len(load_lab("lab01").tests_with("public"))
    )

    # an instructor with only the student kit installed: told what to install, never
    # graded without the hidden tests
    submissions = tmp_path / "submissions"
    shutil.copytree(answers, submissions / "alice")
    for command in (
        ["grade", "lab01", str(submissions), "--out", str(tmp_path / "results"),
         "--solutions", str(KIT_ROOT / "solutions")],
        ["check", "lab01", "--path", str(answers), "--solutions", str(KIT_ROOT / "solutions")],
        ["grade", "lab01", str(submissions), "--out", str(tmp_path / "results")],
    ):
        refused = subprocess.run(
            [script, *command], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "student kit" in refused.stderr and "attn-grade[instructor]" in refused.stderr
        assert "Traceback" not in refused.stdout + refused.stderr
    assert not (tmp_path / "results" / "gradebook.csv").exists()


def test_handouts_edited_since_the_last_commit_are_named(tmp_path):
    """An instructor who tried the lab in exercises/ must not ship their REPORT.md answers."""
    import subprocess

    from attn_grade.labspec import load_lab
    from attn_grade.release import edited_handouts

    lab = load_lab("lab01")
    folder = tmp_path / "exercises" / "lab01"
    folder.mkdir(parents=True)
    for name in ("REPORT.md", "CHECKLIST.md", "softmax.py"):
        (folder / name).write_text("template\n")
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(git + ["init", "-q"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-qm", "handouts"], check=True)
    assert edited_handouts([lab], root=tmp_path) == []
    (folder / "REPORT.md").write_text("my answer\n")
    (folder / "softmax.py").write_text("def softmax(x, axis=-1): ...\n")  # stubs are regenerated
    (folder / "attention_heatmap.png").write_bytes(b"png")  # produced by visualize.py
    assert edited_handouts([lab], root=tmp_path) == ["exercises/lab01/REPORT.md"]


def test_a_non_empty_folder_is_refused_whatever_the_path_says(tmp_path):
    """`release missing/../mine`: mine is not empty, so nothing is written, and missing/
    is not created (before, the path went past the emptiness check and 88 files landed
    beside the user's own)."""
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "precious.txt").write_text("precious\n")
    result = CliRunner().invoke(
        app, ["release", str(tmp_path / "missing" / ".." / "mine"), "--lab", "lab01"]
    )
    assert result.exit_code == 2, result.output
    assert f"{tmp_path / 'mine'} is not empty" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]
    assert [p.name for p in (tmp_path / "mine").iterdir()] == ["precious.txt"]


def test_a_release_that_fails_midway_leaves_nothing(tmp_path, monkeypatch):
    """A release is written beside its folder and renamed into place once complete: when
    it fails (here, solution code found in what it wrote) neither the folder nor the
    missing parents it made remain, and the error is one short line."""
    import attn_grade.release as release

    bodies = solution_bodies((KIT_ROOT / "solutions" / "lab01" / "softmax.py").read_text())
    monkeypatch.setattr(release, "edited_handouts", lambda labs: [])
    monkeypatch.setattr(release, "student_readme", lambda labs: "\n".join(bodies * 20))
    result = CliRunner().invoke(app, ["release", str(tmp_path / "new" / "kit"), "--lab", "lab01"])
    assert result.exit_code == 2, result.output
    assert "solution code in the release: README.md" in result.output
    assert len(result.output) < 600, result.output
    assert list(tmp_path.iterdir()) == []


def test_a_release_into_an_empty_folder_fills_it(tmp_path, monkeypatch):
    import attn_grade.release as release

    monkeypatch.setattr(release, "edited_handouts", lambda labs: [])
    (tmp_path / "kit").mkdir()
    result = CliRunner().invoke(app, ["release", str(tmp_path / "kit"), "--lab", "lab01"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "kit" / "exercises" / "lab01" / "softmax.py").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["kit"]


def test_the_kits_list_says_what_it_grades_and_what_grading_adds(kit):
    """In the student kit, `attn-grade list` counts the hidden tests it does not hold (from
    its student-kit.toml) and says the points it can grade here beside the real total."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ATTN_GRADE_")}
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "list", "--lang", "en"], cwd=kit, timeout=120,
        env={**env, "PYTHONPATH": str(kit / "grader"), "COLUMNS": "80", "NO_COLOR": "1"},
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "the hidden tests run when your work is graded" in " ".join(done.stdout.split())
    for lab_id in RELEASED:
        lab = load_lab(lab_id)
        total = lab.max_test_points + sum(d.points for d in lab.deliverables)
        here = total - sum(t.points for t in lab.tests_with("hidden"))
        tests = f"{len(lab.tests_with('public'))}+{len(lab.tests_with('hidden'))}"
        row = next(line for line in done.stdout.splitlines() if f" {lab_id} " in line)
        assert f" {tests} " in row and f"{total:g} ({here:g} here)" in row, row
