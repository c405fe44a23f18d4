"""Gradescope: build the autograder bundle, and grade one submission inside it.

The bundle (autograder.zip) holds setup.sh and run_autograder (gradescope_bundle/),
a wheel of this kit, requirements.txt, the lab's reference solutions and
attn_grade_bundle.json. Gradescope unzips it into /autograder/source. run_autograder
calls `python3 -m attn_grade.gradescope run`, which grades /autograder/submission
and writes /autograder/results/results.json in Gradescope's documented format:
score, execution_time, output, stdout_visibility, extra_data, and tests[] with
name, number, score, max_score, status, output, visibility.

Run as root (as on Gradescope), student code must run as an unprivileged user (the
runner drops to one); here the reference solutions and the lab specs (which define
the hidden tests) are made readable by root alone.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata
from pathlib import Path
from typing import Any

from attn_grade import __version__
from attn_grade.errors import AttnGradeError, UsageError
from attn_grade.labspec import LabSpec, load_lab
from attn_grade.report.plain import plain
from attn_grade.report.terminal import STATUS_WORD
from attn_grade.result import PASSED, LabResult
from attn_grade.tempdirs import private_tempdir
from attn_grade.translation import N_, Sentence, gettext_for, where_text

VISIBILITIES = ("hidden", "after_due_date", "after_published", "visible")
BUNDLE_CONFIG = "attn_grade_bundle.json"
TEMPLATES = Path(__file__).parent / "gradescope_bundle"
SCRIPTS = ("setup.sh", "run_autograder")
KIT_FILES = ("pyproject.toml", "README.md", "grader")
SUBMISSION_SUFFIXES = (".ipynb", ".zip", ".py")


# -- building the bundle -------------------------------------------------------------------


def build_bundle(
    lab: LabSpec,
    solutions: Path,
    output: Path,
    hidden_visibility: str = "after_published",
    wheel: Path | None = None,
    lang: str = "en",
) -> Path:
    """Write the autograder zip for `lab`, with the reference solutions in `solutions`.

    The zip is written beside `output` under a temporary name, then renamed over it: a
    failed build leaves no half-written bundle. `output`'s folder must exist.
    """
    if output.is_dir():
        raise UsageError(f"{output} is a folder: give the zip to write")
    with private_tempdir("bundle") as tmp:
        wheel = wheel or build_wheel(Path(tmp))
        config = {
            "lab": lab.id, "hidden_visibility": hidden_visibility, "kit": __version__, "lang": lang
        }
        partial = output.with_name(f".{output.name}.{secrets.token_hex(4)}.partial")
        try:
            with zipfile.ZipFile(partial, "x", zipfile.ZIP_DEFLATED) as bundle:
                for name in SCRIPTS:
                    _add(bundle, name, (TEMPLATES / name).read_bytes(), executable=True)
                _add(bundle, "requirements.txt", "\n".join(requirements()) + "\n")
                _add(bundle, BUNDLE_CONFIG, json.dumps(config, indent=1) + "\n")
                _add(bundle, f"dist/{wheel.name}", wheel.read_bytes())
                # the modules, and the data a test reads there (lab06's held-out lines)
                for source in sorted([*solutions.glob("*.py"), *solutions.glob("*.txt")]):
                    _add(bundle, f"solutions/{lab.id}/{source.name}", source.read_bytes())
            os.replace(partial, output)
        finally:
            partial.unlink(missing_ok=True)
    return output


def _add(bundle: zipfile.ZipFile, name: str, data: bytes | str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    bundle.writestr(info, data)


def requirements() -> list[str]:
    """This kit's runtime dependencies (setup.sh installs them from PyPI)."""
    found = metadata.requires("attn-grade") or []
    return [r for r in found if "extra ==" not in r]


def build_wheel(into: Path) -> Path:
    """A wheel of this kit, built offline from a copy of its source (the checkout stays clean)."""
    from attn_grade.reference import KIT_ROOT

    if not (KIT_ROOT / "pyproject.toml").is_file():
        raise UsageError("this attn-grade is not a checkout of the kit: pass --wheel FILE")
    source = into / "kit"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.pyc")
    for name in KIT_FILES:
        path = KIT_ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=ignore)
        else:
            shutil.copy2(path, source / name)
    base = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(into / "dist")]
    attempts = [
        # pip's usual isolated build (what `pip install ./kit` does): setuptools comes from
        # the package index, or from pip's find-links or cache when offline
        base + [str(source)],
    ]
    if _can_build_wheels_here():
        # offline, with the setuptools already installed: first, it needs no index at all
        attempts.insert(0, base + ["--no-build-isolation", "--no-index", str(source)])
    errors = []
    for command in attempts:
        done = subprocess.run(command, capture_output=True, text=True)
        wheels = sorted((into / "dist").glob("attn_grade-*.whl"))
        if done.returncode == 0 and wheels:
            return wheels[0]
        errors.append(done.stderr[-1000:])
    raise UsageError(
        "could not build the attn-grade wheel, offline nor with an isolated build "
        "(`pip install wheel` or a newer setuptools helps offline; or pass --wheel FILE):\n"
        + "\n".join(errors)
    )


def _can_build_wheels_here() -> bool:
    """Whether the installed setuptools builds wheels without an isolated build: it needs
    bdist_wheel, in setuptools >= 70.1 or from the wheel package (a fresh venv's
    setuptools 65 has neither; the [instructor] extra installs a recent setuptools)."""
    from importlib.util import find_spec

    try:
        version = metadata.version("setuptools")
    except metadata.PackageNotFoundError:
        return False
    numbers = tuple(int(part) for part in version.split(".")[:2] if part.isdigit())
    return numbers >= (70, 1) or find_spec("wheel") is not None


# -- locking the reference away ------------------------------------------------------------


def lock_down(paths: list[Path]) -> None:
    """Make each folder root's alone (0700), so an unprivileged user can't list or read it.
    Through a descriptor: a link in place of a folder is refused, never followed."""
    from attn_grade.safe_files import open_folder

    for path in paths:
        fd = open_folder(path)
        try:
            os.fchown(fd, 0, 0)
            os.fchmod(fd, 0o700)
        finally:
            os.close(fd)


def package_labs() -> Path:
    """The installed lab specs: they define the hidden tests."""
    return Path(__file__).parent / "labs"


# -- grading one submission ---------------------------------------------------------------


def run_autograder(root: Path) -> dict[str, Any]:
    """Grade root/submission into root/results/results.json; return the results.

    A submission that cannot be read scores 0 with an explanation; a failure of the grader
    itself raises (Gradescope then reports the autograder failed, not a zero).
    """
    from attn_grade.grading import grade
    from attn_grade.submission import SubmissionError

    started = time.monotonic()
    source = root / "source"
    config = json.loads((source / BUNDLE_CONFIG).read_text(encoding="utf-8"))
    lab = load_lab(config["lab"])
    lang = config.get("lang", "en")  # bundles built before the option are English
    _ = gettext_for(lang)
    if os.geteuid() == 0:
        (root / "results").mkdir(parents=True, exist_ok=True)
        lock_down([source, root / "results"])
    from attn_grade.runner import Limits

    Limits()  # a wrong ATTN_GRADE_* variable is the bundle's fault (raises), not a student's 0
    try:
        submission = find_submission(root / "submission", lab)
        with student_copy(submission) as path:
            result = grade(
                lab.id,
                path,
                solutions=source / "solutions" / lab.id,
                seed=secrets.randbelow(2**31),
                lang=lang,
            )
        results = gradescope_results(result, config["hidden_visibility"])
    except (SubmissionError, UsageError) as exc:
        output = _("Your submission could not be graded: {reason}").format(
            reason=plain(exc.translated(lang))
        )
        results = {"score": 0.0, "output": output}
        results["tests"] = []
    results["execution_time"] = round(time.monotonic() - started)
    results["stdout_visibility"] = "hidden"
    (root / "results").mkdir(parents=True, exist_ok=True)
    target = root / "results" / "results.json"
    target.write_text(json.dumps(results, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return results


def find_submission(folder: Path, lab: LabSpec) -> Path:
    """The lab folder, notebook, zip or .py inside what Gradescope downloaded."""
    from attn_grade.submission import SubmissionError

    if any((folder / f"{m}.py").is_file() for m in lab.modules):
        return folder
    visible = [p for p in sorted(folder.iterdir()) if not p.name.startswith((".", "__"))]
    for suffix in SUBMISSION_SUFFIXES:
        files = [p for p in visible if p.is_file() and p.suffix.lower() == suffix]
        if len(files) == 1:
            return files[0]
    folders = [p for p in visible if p.is_dir()]
    if len(folders) == 1:
        return find_submission(folders[0], lab)
    wanted = ", ".join(f"{m}.py" for m in lab.modules)
    found = ", ".join(p.name for p in visible) or Sentence(N_("nothing"))
    raise SubmissionError(Sentence(
        N_("expected {wanted}, or one notebook, zip or .py file; found {found}"),
        {"wanted": wanted, "found": found},
    ))


@contextmanager
def student_copy(submission: Path) -> Iterator[Path]:
    """A private copy of the submission (0700, root's when grading as root): the runner
    copies it again for the student's process, the deliverables' files land in it, and
    the downloaded submission is never written. Plain folders and single-link regular
    files only; no link is followed or copied."""
    from attn_grade.runner import SUBMISSION_COPY_LIMIT
    from attn_grade.safe_files import copy_tree, read_regular, write_file

    with private_tempdir("gradescope") as tmp:
        copy = Path(tmp) / "submission"
        if submission.is_dir():
            copy_tree(submission, copy, SUBMISSION_COPY_LIMIT, skip_hidden_folders=False)
            yield copy
            return
        os.mkdir(copy, 0o700)
        with _folder_of(submission) as folder:
            data = read_regular(folder, submission.name, SUBMISSION_COPY_LIMIT)
        if data is None:
            raise UsageError(Sentence(N_("{name} is not a plain file"), {"name": submission.name}))
        write_file(copy, submission.name, data)
        yield copy / submission.name


@contextmanager
def _folder_of(path: Path) -> Iterator[int]:
    from attn_grade.safe_files import open_folder

    fd = open_folder(path.parent)
    try:
        yield fd
    finally:
        os.close(fd)


def gradescope_results(result: LabResult, hidden_visibility: str) -> dict[str, Any]:
    """A LabResult in Gradescope's results.json format, in the result's language."""
    _ = gettext_for(result.lang)
    tests = []
    for number, t in enumerate(result.tests, start=1):
        tests.append(
            {
                "name": f"{t.name}: {t.description}" if t.description else t.name,
                "number": str(number),
                "score": t.points,
                "max_score": t.max_points,
                "status": "passed" if t.status == PASSED else "failed",
                "output": _test_output(t, _),
                "visibility": "visible" if t.visibility == "public" else hidden_visibility,
            }
        )
    for number, d in enumerate(result.deliverables, start=len(tests) + 1):
        tests.append(
            {
                "name": d.title,
                "number": str(number),
                "score": d.points,
                "max_score": d.max_points,
                "status": "passed" if d.status == "done" else "failed",
                "output": f"{_(STATUS_WORD.get(d.status, d.status))}: {plain(d.message)}"
                if d.message
                else _(STATUS_WORD.get(d.status, d.status)),
                "visibility": "visible",
            }
        )
    return {
        "score": round(result.score, 4),
        "output": _overview(result, hidden_visibility, _),
        "extra_data": {"lab": result.lab, "seed": result.seed, "kit": __version__},
        "tests": tests,
    }


# a test's status, as results.json shows it (the English words are the statuses themselves)
TEST_STATUS = {
    "passed": N_("passed"),
    "failed": N_("failed"),
    "error": N_("error"),
    "timeout": N_("timeout"),
    "not-run": N_("not-run"),
}


def _test_output(t: Any, _=str) -> str:
    status = _(TEST_STATUS.get(t.status, t.status))
    if t.status == PASSED:
        return f"{status}: {plain(t.message)}" if t.message else status  # a speed test's times
    lines = [f"{status}: {plain(t.message)}"]  # the student's exception text, as plain text
    if t.where:
        lines.append(_("where: {where}").format(where=plain(where_text(t.where, _))))
    if t.diagnosis:
        lines.append(
            _("likely mistake ({mistake}): {hint}").format(mistake=t.diagnosis, hint=t.hint)
        )
    return "\n".join(lines)


def _overview(result: LabResult, hidden_visibility: str, _=str) -> str:
    """The text shown above the tests: public results only (hidden ones have their own time)."""
    public = f"{result.count('public', PASSED)}/{result.count('public')}"
    lines = [
        f"attn-grade {result.lab}: {result.title}",
        _("Public tests passed: {passed}.").format(passed=public),
    ]
    if result.count("hidden") and hidden_visibility != "visible":
        lines.append(
            _(
                "{count} hidden tests ran on fresh inputs; "
                "their results are shown when your instructor releases them."
            ).format(count=result.count("hidden"))
        )
    lines.append(
        _("Run `attn-grade check` on your own machine for the full report and heatmap.")
    )
    return "\n".join(lines)


# -- the entry point of run_autograder and setup.sh ------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m attn_grade.gradescope")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="grade ROOT/submission into ROOT/results")
    run.add_argument(
        "--root", type=Path, default=Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    )
    lock = commands.add_parser("lock-down", help="make the bundle and the lab specs root's alone")
    lock.add_argument("--source", type=Path, required=True)
    args = parser.parse_args(argv)
    if args.command == "lock-down":
        lock_down([args.source, package_labs()])
        return 0
    try:
        results = run_autograder(args.root)
    except AttnGradeError as exc:  # the bundle itself is broken: not the student's zero
        print(f"attn-grade: {exc}", file=sys.stderr)
        return 2
    print(f"score {results['score']:g}; wrote {args.root / 'results' / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
