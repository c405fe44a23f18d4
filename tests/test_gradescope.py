"""The Gradescope bundle: built, unpacked into a simulated /autograder, run on submissions."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from attn_grade import gradescope
from attn_grade.runner import Call, run_calls
from batch_fixtures import REFERENCE, notebook, student_folder

VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
TOP_KEYS = {"score", "execution_time", "output", "visibility", "stdout_visibility", "extra_data"}
TEST_KEYS = {"score", "max_score", "status", "name", "number", "output", "visibility"}
IS_ROOT = os.geteuid() == 0


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("bundle") / "autograder.zip"
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "gradescope", "lab01", "-o", str(target)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return target


def autograder(bundle: Path, root: Path, submission: Path | None) -> dict:
    """Unpack the bundle as Gradescope does, put the submission in place, run run_autograder."""
    (root / "source").mkdir(parents=True)
    (root / "results").mkdir()
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    os.chmod(root / "source" / "run_autograder", 0o755)
    if submission is None:
        (root / "submission").mkdir()
    elif submission.is_dir():
        shutil.copytree(submission, root / "submission")
    else:
        (root / "submission").mkdir()
        shutil.copy2(submission, root / "submission")
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "ATTN_GRADE_PYTHON": sys.executable}
    done = subprocess.run(
        ["bash", str(root / "source" / "run_autograder")],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return validate(json.loads((root / "results" / "results.json").read_text()))


def validate(results: dict) -> dict:
    """Gradescope's documented results.json format."""
    assert set(results) <= TOP_KEYS | {"tests"}
    assert isinstance(results["score"], (int, float))
    assert isinstance(results["execution_time"], int)
    assert results["stdout_visibility"] in VISIBILITIES
    for test in results["tests"]:
        assert set(test) == TEST_KEYS
        assert isinstance(test["name"], str) and isinstance(test["output"], str)
        assert 0 <= test["score"] <= test["max_score"]
        assert test["status"] in ("passed", "failed")
        assert test["visibility"] in VISIBILITIES
    if results["tests"]:
        assert results["score"] == pytest.approx(sum(t["score"] for t in results["tests"]))
    return results


def test_bundle_contents(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        requirements = archive.read("requirements.txt").decode()
        config = json.loads(archive.read(gradescope.BUNDLE_CONFIG))
    assert {"setup.sh", "run_autograder", "requirements.txt"} <= names
    assert modes["setup.sh"] & 0o111 and modes["run_autograder"] & 0o111
    assert any(n.startswith("dist/attn_grade-") and n.endswith(".whl") for n in names)
    assert "solutions/lab01/attention.py" in names and "solutions/lab01/known_mistakes.py" in names
    assert all(dep in requirements for dep in ("numpy", "matplotlib", "typer", "rich"))
    assert config["lab"] == "lab01" and config["hidden_visibility"] == "after_published"
    for script in ("setup.sh", "run_autograder"):
        check = subprocess.run(["bash", "-n", str(gradescope.TEMPLATES / script)])
        assert check.returncode == 0, f"{script} is not valid bash"


def test_correct_submission_scores_full_marks(bundle, tmp_path):
    results = autograder(bundle, tmp_path / "ag", student_folder(tmp_path / "s", "correct"))
    assert results["score"] == 31
    assert all(t["status"] == "passed" for t in results["tests"])
    hidden = [t for t in results["tests"] if t["visibility"] == "after_published"]
    assert len(hidden) == 7 and isinstance(results["extra_data"]["seed"], int)


def test_wrong_submission_is_explained(bundle, tmp_path):
    results = autograder(bundle, tmp_path / "ag", student_folder(tmp_path / "s", "missing_scale"))
    assert 0 < results["score"] < 31
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert any("missing-scale" in t["output"] for t in failed)
    assert "Public tests passed: 6/11" in results["output"]


def test_broken_submission_scores_low_with_the_error(bundle, tmp_path):
    results = autograder(bundle, tmp_path / "ag", student_folder(tmp_path / "s", "syntax_error"))
    assert results["score"] <= 2  # only the REPORT.md answer that needs no code
    assert any("SyntaxError" in t["output"] for t in results["tests"])


def test_notebook_and_empty_submissions(bundle, tmp_path):
    results = autograder(bundle, tmp_path / "nb", notebook(tmp_path / "lab01.ipynb"))
    assert results["score"] >= 25 or "notebook" in results["output"]
    empty = autograder(bundle, tmp_path / "empty", None)
    assert empty["score"] == 0 and empty["tests"] == []
    assert "softmax.py" in empty["output"]


@pytest.fixture
def open_root():
    """A folder every user can enter, so that only the bundle's own permissions protect it."""
    folder = Path(tempfile.mkdtemp(prefix="attn-grade-test-ag-", dir="/tmp"))
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def as_nobody(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, user="nobody", group="nogroup", extra_groups=[], capture_output=True
    )


@pytest.mark.skipif(not IS_ROOT, reason="checks what an unprivileged user can do: needs root")
def test_reference_and_results_are_out_of_an_unprivileged_users_reach(bundle, tmp_path, open_root):
    root = open_root / "ag"
    autograder(bundle, root, student_folder(tmp_path / "s", "correct"))
    assert as_nobody("ls", str(root)).returncode == 0  # the way in is open: only source/ is shut
    assert as_nobody("cat", str(root / "source/solutions/lab01/attention.py")).returncode != 0
    assert as_nobody("ls", str(root / "source")).returncode != 0
    assert as_nobody("touch", str(root / "results/results.json")).returncode != 0
    labs = tmp_path / "labs"  # lock-down as setup.sh runs it on the installed lab specs
    shutil.copytree(REFERENCE.parents[1] / "grader/attn_grade/labs", labs)
    gradescope.lock_down([labs])
    assert as_nobody("cat", str(labs / "lab01/lab.toml")).returncode != 0


def _runner_drops_privileges(tmp_path: Path) -> bool:
    (tmp_path / "probe.py").write_text(
        "import os\nimport numpy as np\n\ndef uid():\n    return np.array([float(os.getuid())])\n"
    )
    record = run_calls(tmp_path, [Call("uid", "probe", "uid", [], {}, 1)])
    outcome = record.outcomes["uid"]
    return outcome.status == "ok" and float(outcome.outputs[0].ravel()[0]) != 0.0


@pytest.mark.skipif(not IS_ROOT, reason="the runner drops privileges only when run as root")
def test_student_code_cannot_read_the_bundled_reference(bundle, tmp_path, open_root):
    if not _runner_drops_privileges(tmp_path):
        pytest.skip("this runner does not drop privileges yet")
    root = open_root / "ag"
    secret = root / "source" / "solutions" / "lab01" / "attention.py"
    spy = student_folder(tmp_path / "spy", "correct")
    source = (spy / "softmax.py").read_text()
    leak = (
        "import os\n"
        f"LEAKED = os.access({str(secret)!r}, os.R_OK)\n"
        "try:\n"
        f"    open({str(secret)!r}).read()\n"
        "    LEAKED = True\n"
        "except OSError:\n"
        "    pass\n"
    )
    # A spy that read the reference returns wrong probabilities: full marks mean it could not.
    source = source.replace("import numpy as np\n", "import numpy as np\n" + leak, 1)
    source = source.replace("    return exps /", "    exps = exps + LEAKED\n    return exps /", 1)
    assert source.count("LEAKED") == 3, "the spy was not planted"
    (spy / "softmax.py").write_text(source)
    results = autograder(bundle, root, spy)
    softmax = [t for t in results["tests"] if t["name"].startswith("softmax_rows")]
    assert softmax[0]["status"] == "passed", softmax[0]["output"]
    assert np.isclose(results["score"], 31)
