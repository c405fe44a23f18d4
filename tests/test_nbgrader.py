"""The real nbgrader pipeline on a course written by `attn-grade nbgrader`, for every lab.

One course per lab, few nbgrader runs (its CLI takes seconds to start):
generate_assignment; autograde of several students at once (the reference filled
in, the untouched release, one function left undone, and for lab01 a known
mistake); validate on the source; validate --invert on the release; and for
lab01 the feedback HTML. The kernel is a kernelspec named python3 for this
interpreter, in a private JUPYTER_PATH, so a user's own python3 kernel is not used.
"""

from __future__ import annotations

import copy
import html
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("nbgrader")

from attn_grade.cli import app  # noqa: E402
from attn_grade.labspec import lab_ids, load_lab  # noqa: E402
from attn_grade.reference import find_solutions  # noqa: E402
from attn_grade.release import all_solution_bodies  # noqa: E402
from typer.testing import CliRunner  # noqa: E402

FULL, UNTOUCHED, UNDONE, MISTAKE = "full", "untouched", "undone", "mistake"
PASSES = "Success! Your notebook passes all the tests."
FAILS_EVERYWHERE = "Success! The notebook does not pass any tests."


@pytest.fixture(scope="module")
def nbgrader_env(tmp_path_factory) -> dict[str, str]:
    kernels = tmp_path_factory.mktemp("jupyter") / "kernels" / "python3"
    kernels.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (attn-grade tests)",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    paths = [str(kernels.parent.parent)]
    if sys.base_prefix != sys.prefix:  # a venv with system site-packages: nbconvert's templates
        paths.append(str(Path(sys.base_prefix) / "share" / "jupyter"))  # sit in the base's share
    env = dict(os.environ, JUPYTER_PATH=os.pathsep.join(paths))
    env.pop(
        "ATTN_GRADE_SOLUTIONS", None
    )  # hidden tests find the reference via the editable install
    return env


def _nbgrader(env: dict[str, str], course: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "nbgrader", *args],
        cwd=course,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def _grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _submissions(lab_id: str, source, release) -> dict[str, object]:
    """Student notebooks made from the release, as a student would hand them in."""
    reference = {_grade_id(c): c.source for c in source.cells}
    lab = load_lab(lab_id)
    last_function = list(lab.functions)[-1]

    def filled(undone: str | None = None, change=None):
        notebook = copy.deepcopy(release)
        for cell in notebook.cells:
            grade_id = _grade_id(cell)
            if cell.metadata.get("nbgrader", {}).get("solution") and grade_id != undone:
                lines = reference[grade_id].splitlines()
                cell.source = "\n".join(line for line in lines if "### " not in line)
                if change and grade_id in change:
                    old, new = change[grade_id]
                    assert old in cell.source
                    cell.source = cell.source.replace(old, new)
        return notebook

    notebooks = {FULL: filled(), UNTOUCHED: release, UNDONE: filled(undone=last_function)}
    if lab_id == "lab01":
        unscaled = {"scaled_dot_product_attention": (" / np.sqrt(d_k)", "")}
        notebooks[MISTAKE] = filled(change=unscaled)
    return notebooks


def _test_points(course: Path, lab_id: str, student: str) -> dict[str, float]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        notebook = gradebook.find_submission_notebook(lab_id, lab_id, student)
        return {g.name.removeprefix("test_"): g.score for g in notebook.grades}


def _check_points(path: Path, lab_id: str) -> dict[str, float]:
    result = CliRunner().invoke(app, ["check", lab_id, "--path", str(path), "--json", "--no-png"])
    report = json.loads(result.stdout)
    assert report["hidden_tests_ran"]
    return {t["name"]: t["points"] for t in report["tests"]}


def _outputs(notebook, grade_id: str) -> str:
    cell = next(c for c in notebook.cells if _grade_id(c) == grade_id)
    texts = []
    for output in cell.get("outputs", []):
        texts.append(output.get("text", ""))
        texts.append(str(output.get("data", {}).get("text/plain", "")))
        texts += output.get("traceback", [])
    return "\n".join(texts)


def _lines(bodies: list[str]) -> set[str]:
    return {line.strip() for body in bodies for line in body.splitlines() if line.strip()}


def _squeezed(text: str) -> str:
    """Text without ANSI colours, table borders and white space."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    return re.sub(r"[\s│]", "", text)


@pytest.mark.parametrize("lab_id", lab_ids())
def test_nbgrader_pipeline(lab_id, tmp_path, nbgrader_env):
    lab = load_lab(lab_id)
    solutions = find_solutions(lab)
    if solutions is None or not lab.public_data_path.is_file():
        pytest.skip(f"{lab_id} has no reference or no public.npz yet")
    course = tmp_path / "course"
    made = CliRunner().invoke(app, ["nbgrader", lab_id, str(course), "--course-id", "attn-test"])
    assert made.exit_code == 0, made.output
    assert (
        "c.CourseDirectory.course_id = 'attn-test'" in (course / "nbgrader_config.py").read_text()
    )

    _nbgrader(nbgrader_env, course, "generate_assignment", lab_id)
    source = nbformat.read(str(course / "source" / lab_id / f"{lab_id}.ipynb"), 4)
    release = nbformat.read(str(course / "release" / lab_id / f"{lab_id}.ipynb"), 4)

    # no solution code in the release, and none in any test cell (nbgrader shows those)
    bodies = all_solution_bodies([solutions])
    assert bodies
    released = "\n".join(c.source for c in release.cells)
    tests_source = "\n".join(
        c.source for c in source.cells if c.metadata.get("nbgrader", {}).get("grade")
    )
    for body in bodies:
        assert body not in released
    for line in _lines(bodies):
        assert line not in tests_source
    for test in lab.tests_with("hidden"):
        assert f'"{test.name}"' not in released
        assert f'check_test("{lab_id}", "{test.name}")' in tests_source
    points = {
        _grade_id(c).removeprefix("test_"): c.metadata.nbgrader["points"]
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    assert points == {t.name: t.points for t in lab.tests}

    notebooks = _submissions(lab_id, source, release)
    for student, notebook in notebooks.items():
        folder = course / "submitted" / student / lab_id
        folder.mkdir(parents=True)
        nbformat.write(notebook, str(folder / f"{lab_id}.ipynb"))
    _nbgrader(nbgrader_env, course, "autograde", lab_id)

    maximum = {t.name: t.points for t in lab.tests}
    assert _test_points(course, lab_id, FULL) == maximum
    assert set(_test_points(course, lab_id, UNTOUCHED).values()) == {0.0}
    for student in notebooks.keys() - {FULL, UNTOUCHED}:
        autograded = _test_points(course, lab_id, student)
        checked = _check_points(course / "submitted" / student / lab_id / f"{lab_id}.ipynb", lab_id)
        assert autograded == checked, student
        assert 0 < sum(autograded.values()) < sum(maximum.values()), student

    graded = nbformat.read(str(course / "autograded" / FULL / lab_id / f"{lab_id}.ipynb"), 4)
    report = next(c for c in graded.cells if _grade_id(c) == "report")
    assert any("image/png" in o.get("data", {}) for o in report.outputs)
    if MISTAKE in notebooks:
        path = course / "autograded" / MISTAKE / lab_id / f"{lab_id}.ipynb"
        output = _outputs(nbformat.read(str(path), 4), "test_attention_single")
        assert "Likely mistake: missing-scale" in output
        hint = next(m.hint for m in lab.mistakes if m.id == "missing-scale")
        assert _squeezed(hint) in _squeezed(output)  # the hint, as the terminal report wraps it

    validated = _nbgrader(nbgrader_env, course, "validate", f"source/{lab_id}/{lab_id}.ipynb")
    assert PASSES in validated
    inverted = _nbgrader(
        nbgrader_env, course, "validate", "--invert", f"release/{lab_id}/{lab_id}.ipynb"
    )
    assert FAILS_EVERYWHERE in inverted

    if lab_id == "lab01":  # nbgrader's feedback shows hidden tests' source (issue #1363)
        _nbgrader(nbgrader_env, course, "generate_feedback", lab_id)
        page = (course / "feedback" / UNTOUCHED / lab_id / f"{lab_id}.html").read_text()
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        assert 'check_test("lab01", "attention_float32")' in text  # shown, and harmless
        for line in _lines(bodies):
            assert line not in text
