"""The real `attn-grade` command, run as a subprocess the way students run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import KIT_ROOT, SOLUTIONS, copy_reference

COLOUR_CODE = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]")


def run(*args: str, cwd=KIT_ROOT, env=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "attn_grade", *args], cwd=cwd, capture_output=True, text=True,
        env={**os.environ, "COLUMNS": "160", **(env or {})}, timeout=120,
    )


def test_version():
    done = run("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("attn-grade ")


def test_list_shows_lab01_with_its_metadata():
    done = run("list")
    assert done.returncode == 0
    assert "lab01" in done.stdout and "Softmax" in done.stdout and "beginner" in done.stdout


def test_untouched_stubs_get_zero_and_say_not_implemented(stubs):
    folder = stubs("lab01")
    done = run("check", "lab01", "--path", str(folder), "--json")
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["score"] == 0
    assert report["tests"] and all(t["status"] == "error" for t in report["tests"])
    assert all("not implemented yet" in t["message"] for t in report["tests"])
    assert "Traceback" not in done.stdout + done.stderr
    text = run("check", "lab01", "--path", str(folder), "--no-png")
    assert "not implemented yet" in text.stdout and "Traceback" not in text.stdout


def test_reference_gets_full_marks_and_exit_0(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    done = run("check", "lab01", "--path", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Score: 31 / 31" in done.stdout
    assert "hidden tests passed: 7/7" in done.stdout
    assert (folder / "attn_grade_heatmap.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (folder / "attention_heatmap.png").is_file()  # visualize.py ran
    assert "it" in done.stdout and "animal" in done.stdout  # the terminal heatmap


def test_json_is_exactly_one_object_with_the_documented_schema(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "softmax.py").write_text(
        "import numpy as np\nprint('debug output from the student')\n"
        "def softmax(x, axis=-1):\n    e = np.exp(x)\n    return e / e.sum(axis=axis, keepdims=True)\n"
    )
    done = run("check", "lab01", "--path", str(folder), "--json")
    assert done.returncode == 1
    report = json.loads(done.stdout)  # fails if anything else is on stdout
    assert {"lab", "score", "max_score", "tests", "deliverables"} <= report.keys()
    test = report["tests"][0]
    assert {"name", "function", "status", "points", "max_points", "message", "diagnosis"} <= test.keys()
    assert {t["status"] for t in report["tests"]} <= {"passed", "failed", "error", "timeout"}
    assert "unstable-softmax" in {t["diagnosis"] for t in report["tests"]}
    assert "debug output from the student" in report["student_output"]


def test_without_reference_only_public_tests_run(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    done = run("check", "lab01", "--path", str(folder), "--no-hidden")
    assert done.returncode == 0
    assert "hidden" not in done.stdout.split("Score:")[0]
    assert "Hidden tests are not included here: they run at grading" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "lab99"), "Unknown lab 'lab99'"),
        (("check", "lab01", "--path", "/no/such/folder"), "No folder or file /no/such/folder"),
        (("check", "lab01", "--lang", "fr"), "--lang must be en or pt"),
        (("check",), "Missing argument"),
    ],
)
def test_usage_errors_exit_2_with_a_message(args, message):
    done = run(*args)
    assert done.returncode == 2
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_no_color_is_honoured(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    done = run("check", "lab01", "--path", str(folder), "--no-png",
               env={"NO_COLOR": "1", "FORCE_COLOR": "1"})
    assert not COLOUR_CODE.search(done.stdout)  # bold and italic may stay; colours go
    colored = run("check", "lab01", "--path", str(folder), "--no-png", env={"FORCE_COLOR": "1"})
    assert COLOUR_CODE.search(colored.stdout)


def test_portuguese_hints(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "attention.py").write_text(
        (SOLUTIONS / "lab01" / "attention.py").read_text().replace(" / np.sqrt(d_k)", "")
    )
    done = run("check", "lab01", "--path", str(folder), "--json", "--lang", "pt")
    hints = {t["hint"] for t in json.loads(done.stdout)["tests"] if t["diagnosis"] == "missing-scale"}
    assert hints and all("Os scores não foram escalados" in h for h in hints)


def test_a_broken_module_does_not_stop_the_other(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "attention.py").write_text("def scaled_dot_product_attention(q, k, v, mask=None)\n")
    done = run("check", "lab01", "--path", str(folder), "--json")
    report = json.loads(done.stdout)
    by_function = {}
    for t in report["tests"]:
        by_function.setdefault(t["function"], set()).add(t["status"])
    assert by_function["softmax"] == {"passed"}
    assert by_function["scaled_dot_product_attention"] == {"error"}
    message = next(t["message"] for t in report["tests"] if t["function"] != "softmax")
    assert "SyntaxError" in message and "attention.py, line 1" in message


def test_an_infinite_loop_costs_only_its_own_tests(tmp_path):
    folder = copy_reference("lab01", tmp_path / "lab01")
    source = (SOLUTIONS / "lab01" / "softmax.py").read_text()
    (folder / "softmax.py").write_text(source.replace(
        "    ### BEGIN SOLUTION\n", "    ### BEGIN SOLUTION\n    while axis == 0:\n        pass\n"))
    done = run("check", "lab01", "--path", str(folder), "--json", "--no-hidden")
    report = json.loads(done.stdout)
    statuses = {t["name"]: t["status"] for t in report["tests"]}
    assert statuses["softmax_axis_0"] == "timeout"
    assert all(s == "passed" for n, s in statuses.items() if n != "softmax_axis_0")


def test_a_student_install_never_imports_the_instructor_extra():
    """nbgrader and ipykernel are the [instructor] extra: no module of the kit imports them."""
    code = (
        "import importlib, pkgutil, sys, attn_grade\n"
        "for m in pkgutil.iter_modules(attn_grade.__path__):\n"
        "    if m.name != '__main__' and not m.ispkg:\n"
        "        importlib.import_module('attn_grade.' + m.name)\n"
        "print(sorted(n for n in ('nbgrader', 'ipykernel', 'jupyter_client') if n in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_nbgrader_without_nbgrader_installed_names_the_extra(tmp_path, monkeypatch):
    from attn_grade import cli_instructor
    from attn_grade.cli import app
    from typer.testing import CliRunner

    monkeypatch.setattr(cli_instructor, "find_spec", lambda name: None)
    result = CliRunner().invoke(app, ["nbgrader", "lab01", str(tmp_path / "course")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "course" / "source" / "lab01" / "lab01.ipynb").is_file()
    assert "python -m pip install 'attn-grade[instructor]'" in result.output


def test_nbgrader_never_overwrites_a_different_source_notebook_unless_forced(tmp_path):
    """A course's source notebook made in Portuguese (or edited by hand) is kept when the
    command runs again with other content: exit 2, nothing written; the same notebook again
    is fine; --force overwrites it."""
    from attn_grade.cli import app
    from typer.testing import CliRunner

    course = tmp_path / "course"
    notebook = course / "source" / "lab01" / "lab01.ipynb"
    runner = CliRunner()
    assert runner.invoke(app, ["nbgrader", "lab01", str(course), "--lang", "pt"]).exit_code == 0
    portuguese = notebook.read_text(encoding="utf-8")
    again = runner.invoke(app, ["nbgrader", "lab01", str(course), "--lang", "pt"])
    assert again.exit_code == 0, again.output

    english = runner.invoke(app, ["nbgrader", "lab01", str(course), "--lang", "en"])
    assert english.exit_code == 2, english.output
    assert f"{notebook} already exists" in english.output and "--force" in english.output
    assert notebook.read_text(encoding="utf-8") == portuguese
    (notebook.parent / "lab01.ipynb").write_text(portuguese.replace("softmax", "Softmax"))
    edited = runner.invoke(app, ["nbgrader", "lab01", str(course), "--lang", "pt"])
    assert edited.exit_code == 2 and "Softmax" in notebook.read_text(encoding="utf-8")

    forced = runner.invoke(app, ["nbgrader", "lab01", str(course), "--lang", "en", "--force"])
    assert forced.exit_code == 0, forced.output
    assert notebook.read_text(encoding="utf-8") != portuguese


@pytest.mark.parametrize("lang", ["en", "pt"])
def test_list_is_readable_at_80_columns(lang):
    """Piped output or a standard terminal (80 columns): every title whole, its words never
    cut, each lab's level, time, tests and points on the table; nothing wider than 80."""
    from attn_grade.cli import app
    from attn_grade.labspec import lab_ids, load_lab
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["list", "--lang", lang], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 80, result.output
    words = set(result.output.replace("│", " ").replace(",", " ").split())
    for lab_id in lab_ids():
        lab = load_lab(lab_id)
        for word in lab.titled(lang).replace(",", " ").split():
            assert word in words, (word, result.output)
        points = lab.max_test_points + sum(d.points for d in lab.deliverables)
        tests = f"{len(lab.tests_with('public'))}+{len(lab.tests_with('hidden'))}"
        row = next(line for line in result.output.splitlines() if f" {lab_id} " in line)
        assert f" {tests} " in row and f" {points:g} " in row, row
        assert f"~{lab.minutes} min" in result.output
    if lang == "en":
        assert "Softmax and scaled dot-product attention" in result.output  # on one line


def test_the_readmes_list_is_what_list_prints():
    """README.md shows `attn-grade list` at 80 columns: the same rows (points, tests,
    titles) as the command prints, so a lab's new test or deliverable updates both."""
    from attn_grade.cli import app
    from typer.testing import CliRunner

    readme = (KIT_ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("    $ attn-grade list\n", 1)[1].split("\n\n", 1)[0]
    shown = [line[4:].rstrip() for line in block.splitlines()]
    printed = CliRunner().invoke(app, ["list", "--lang", "en"], env={"COLUMNS": "80"}).output
    assert shown == [line.rstrip() for line in printed.splitlines() if line.strip()]
