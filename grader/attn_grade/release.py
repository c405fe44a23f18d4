"""The student kit: everything a student needs, and no solution.

    OUT_DIR/README.md            how to install and check (generated)
    OUT_DIR/README.pt-BR.md      the students' guide in Portuguese (the kit's)
    OUT_DIR/pyproject.toml       the kit's, so `pip install OUT_DIR` works
    OUT_DIR/grader/attn_grade/   the grader; each lab.toml without its hidden tests,
                                 each lab's public.npz (frozen public expectations)
    OUT_DIR/exercises/<lab>/     stubs generated from solutions/<lab>, and the handouts
    OUT_DIR/reading_list/        as in the kit

Nothing of solutions/ is copied. Before returning, every text file written is
searched for every marked solution block of every lab: a match is an error.
"""

from __future__ import annotations

import re
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from attn_grade.errors import AttnGradeError, LabSpecError
from attn_grade.labspec import LABS_DIR, LabSpec, parse_lab
from attn_grade.reference import KIT_ROOT, STUDENT_KIT_MARKER
from attn_grade.report.heatmap_png import PNG_NAME
from attn_grade.safe_files import remove_tree
from attn_grade.stubs import exercise_files, exercises_dir, solution_bodies
from attn_grade.translation import N_, Sentence

PACKAGE_DIR = Path(__file__).resolve().parent
NEVER_COPIED = ("__pycache__", "*.pyc", ".*", "*.egg-info", PNG_NAME)
_MARKER_TEXT = (
    "# Written by `attn-grade release`: lab.toml beside this file is the student kit's,\n"
    "# without its hidden tests. The grader refuses to grade with a reference here\n"
    "# (it would skip the hidden tests): instructors install the full kit.\n"
    "hidden_tests_removed = true\n"
    "# what the full kit grades besides (`attn-grade list` says it)\n"
)
_HEADER = re.compile(r"^\[\[?[A-Za-z_][\w.\-\"]*\]\]?\s*(#.*)?$")


class ReleaseError(AttnGradeError):
    """A student kit that cannot be written, or that would hold solution code."""


def build_release(
    out: Path, labs: list[LabSpec], solutions: dict[str, Path], handouts: Path | None = None
) -> list[Path]:
    """Write the student kit for `labs` into the empty or new folder `out`.

    The handouts (README.md, CHECKLIST.md, REPORT.md of each lab) come from
    `handouts`/LAB, by default the kit's exercises/, which must then match its last commit.
    """
    out = out.expanduser().resolve()  # missing/../kit is kit, as the shell means it
    if out.exists() and not out.is_dir():
        raise ReleaseError(Sentence(
            N_("{path} is a file: choose a new folder for the release"), {"path": str(out)}))
    if out.exists() and any(out.iterdir()):
        raise ReleaseError(Sentence(
            N_("{path} is not empty: choose a new folder for the release"), {"path": str(out)}))
    for lab in labs:
        if not lab.public_data_path.is_file():
            raise ReleaseError(Sentence(N_(
                "{lab} has no frozen public tests: run `attn-grade freeze {lab}`, "
                "or leave the lab out with --lab"), {"lab": lab.id}))
    edited = edited_handouts(labs) if handouts is None else []
    if edited:
        raise ReleaseError(Sentence(N_(
            "these handouts differ from the last commit and would ship as they are: {files}. "
            "Commit them, or restore them with `git checkout -- FILE`."),
            {"files": _few(edited)}))
    with _partial_folder(out) as partial:  # renamed to `out` only once complete
        _write_kit(partial, labs, solutions, handouts)
    return sorted(p for p in out.rglob("*") if p.is_file())


def _write_kit(
    out: Path, labs: list[LabSpec], solutions: dict[str, Path], handouts: Path | None
) -> None:
    _copy_package(out / "grader" / "attn_grade", {lab.id for lab in labs})
    for lab in labs:
        spec_file = out / "grader" / "attn_grade" / "labs" / lab.id / "lab.toml"
        spec_file.write_text(public_spec((lab.spec_dir / "lab.toml").read_text("utf-8")), "utf-8")
        hidden = lab.tests_with("hidden")
        (spec_file.parent / STUDENT_KIT_MARKER).write_text(
            _MARKER_TEXT + f"hidden_tests = {len(hidden)}\n"
            f"hidden_points = {sum(t.points for t in hidden):g}\n", encoding="utf-8")
        source = exercises_dir(lab) if handouts is None else handouts / lab.id
        _write_exercises(lab, solutions[lab.id], source, out / "exercises" / lab.id)
    shutil.copy2(KIT_ROOT / "pyproject.toml", out / "pyproject.toml")
    for name in ("LICENSE", "LICENSE.md", "README.pt-BR.md"):  # the students' guide in pt
        if (KIT_ROOT / name).is_file():
            shutil.copy2(KIT_ROOT / name, out / name)
    if (KIT_ROOT / "reading_list").is_dir():
        _copytree(KIT_ROOT / "reading_list", out / "reading_list")
    (out / "README.md").write_text(student_readme(labs), encoding="utf-8")
    leaks = find_leaks(out, all_solution_bodies(solutions.values()))
    if leaks:
        raise ReleaseError(Sentence(N_("solution code in the release: {files}"),
                                    {"files": _few(leaks, "; ")}))


@contextmanager
def _partial_folder(out: Path) -> Iterator[Path]:
    """A new folder beside `out` (its missing parents made), renamed to `out` when the
    block ends well; on any error, it and the parents made for it are removed: a release
    that failed leaves nothing behind, and never writes into a folder that holds files."""
    made = [p for p in reversed(out.parents) if not p.exists()]
    partial = out.parent / f".{out.name}.partial-{secrets.token_hex(4)}"
    try:
        try:
            for parent in made:
                parent.mkdir()
            partial.mkdir()  # mode 0777 less the umask, as the folder the kit becomes
        except OSError as exc:  # an unwritable place, named as the user gave it
            raise ReleaseError(Sentence(N_("{path}: cannot create it ({error})"),
                                        {"path": str(out), "error": exc.strerror or str(exc)})) from None
        yield partial
        partial.rename(out)  # onto nothing, or an empty folder (POSIX replaces it)
    except BaseException:
        if partial.exists():
            remove_tree(partial)
        for parent in reversed(made):
            with suppress(OSError):
                parent.rmdir()
        raise


def _few(items: list[str], separator: str = ", ", most: int = 5) -> str:
    """The first `most` items and how many more: an error stays one readable line."""
    more = f"{separator}(+{len(items) - most})" if len(items) > most else ""
    return separator.join(items[:most]) + more


def hidden_in_kit(lab: LabSpec) -> tuple[int, float] | None:
    """(number, points) of the hidden tests removed from `lab` when its spec is a student
    kit's (as its student-kit.toml records them), else None."""
    try:
        marker = tomllib.loads((lab.spec_dir / STUDENT_KIT_MARKER).read_text("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    return int(marker.get("hidden_tests", 0)), float(marker.get("hidden_points", 0))


def public_spec(text: str) -> str:
    """A lab.toml without its hidden tests' tables; comments and everything else kept."""
    blocks, current = [], []
    for line in text.splitlines(keepends=True):
        # a test's own table ([tests.speed], [tests.gradient]) goes with its [[tests]]
        if _HEADER.match(line.strip()) and current and not line.startswith("[tests."):
            blocks.append("".join(current))
            current = []
        current.append(line)
    blocks.append("".join(current))
    kept = []
    for block in blocks:
        if block.startswith("[[tests]]") and _is_hidden(block):
            lines = block.splitlines(keepends=True)
            tail = len(lines)
            while tail > 0 and (not lines[tail - 1].strip() or lines[tail - 1].lstrip()[:1] == "#"):
                tail -= 1
            kept.append("".join(lines[tail:]))  # the next section's comments
        else:
            kept.append(block)
    public = "".join(kept)
    _check_public(text, public)
    return public


def all_solution_bodies(solution_dirs: Iterable[Path]) -> list[str]:
    """Every marked block of every reference module."""
    bodies = []
    for folder in solution_dirs:
        for path in sorted(folder.glob("*.py")):
            bodies += solution_bodies(path.read_text(encoding="utf-8"))
    return bodies


def find_leaks(root: Path, bodies: list[str]) -> list[str]:
    """'file: first line of the block' for each solution block found in a file under root."""
    leaks = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = path.read_bytes().decode("utf-8", errors="ignore")
        for body in bodies:
            if body in text:
                leaks.append(f"{path.relative_to(root)}: {body.splitlines()[0].strip()}")
    return leaks


def student_readme(labs: list[LabSpec]) -> str:
    rows = "\n".join(f"| {lab.id} | {lab.title} | ~{lab.minutes} min |" for lab in labs)
    first = labs[0].id if labs else "lab01"
    return f"""# attn-grade: implement transformer attention in NumPy

Each lab is a folder in `exercises/`: read its README.md (the handout), then
replace every `raise NotImplementedError` with your code. `attn-grade` checks
your work in a separate process and explains what is wrong.

| lab | title | time |
|-----|-------|------|
{rows}

## Install (Python 3.10 or newer)

    python -m pip install .

## Check your work

    attn-grade list                                   # the labs, in order
    attn-grade check {first}                             # grades exercises/{first}
    attn-grade check {first} --path {first}.ipynb           # or your Jupyter/Colab notebook
    attn-grade check {first} --lang pt                   # dicas em português

In a Jupyter or Colab notebook, after the cells that define your functions:

    import attn_grade
    attn_grade.check("{first}")                          # lang="pt": em português

This kit grades the public tests. Hidden tests run at grading, on fresh random
inputs: pass them by being right, not by matching numbers. The reading list for
the labs is in `reading_list/`.

Em português: o guia do estudante é o `README.pt-BR.md`, e cada lab tem os enunciados
`README.pt-BR.md`, `CHECKLIST.pt-BR.md` e `REPORT.pt-BR.md` ao lado dos em inglês.
"""


def _is_hidden(block: str) -> bool:
    try:
        tests = tomllib.loads(block).get("tests", [])
    except tomllib.TOMLDecodeError as exc:
        raise LabSpecError(f"cannot read a [[tests]] table: {exc}") from exc
    return any(t.get("visibility") == "hidden" for t in tests)


def _check_public(original: str, public: str) -> None:
    """The public spec keeps every public test as it was, and no hidden one."""
    before = parse_lab(tomllib.loads(original), LABS_DIR)
    after = parse_lab(tomllib.loads(public), LABS_DIR)
    if after.tests != before.tests_with("public") or after.mistakes != before.mistakes:
        raise LabSpecError(f"{before.id}: removing the hidden tests changed the public spec")


def _copy_package(target: Path, lab_ids: set[str]) -> None:
    def ignore(folder: str, names: list[str]) -> set[str]:
        ignored = _ignored(names)
        if Path(folder).resolve() == (PACKAGE_DIR / "labs").resolve():
            ignored |= {n for n in names if n not in lab_ids}
        return ignored

    shutil.copytree(PACKAGE_DIR, target, ignore=ignore)


def edited_handouts(labs: list[LabSpec], root: Path = KIT_ROOT) -> list[str]:
    """Handout files of exercises/ that git sees changed, e.g. a REPORT.md or CHECKLIST.md
    an instructor filled in while trying the lab. Stubs (.py) are regenerated anyway.
    Empty when the kit is not a git checkout."""
    folders = [f"exercises/{lab.id}" for lab in labs]
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--", *folders],
            capture_output=True,
            text=True,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if done.returncode != 0:
        return []
    produced = {str(d.options.get("produces", "")) for lab in labs for d in lab.deliverables}
    edited = []
    for line in done.stdout.splitlines():
        path = line[3:].strip().strip('"')
        name = Path(path).name
        if path.endswith(".py") or name in produced or _ignored([name]):
            continue
        edited.append(path)
    return edited


def _write_exercises(lab: LabSpec, solutions: Path, source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    produced = {str(d.options.get("produces", "")) for d in lab.deliverables}
    if source.is_dir():
        for path in sorted(source.iterdir()):
            if path.is_file() and path.suffix != ".py" and not _ignored([path.name]):
                if path.name not in produced:
                    shutil.copy2(path, target / path.name)
    for name, text in exercise_files(lab, solutions).items():
        (target / name).write_text(text, encoding="utf-8")


def _copytree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, ignore=lambda folder, names: _ignored(names))


def _ignored(names: list[str]) -> set[str]:
    return set(shutil.ignore_patterns(*NEVER_COPIED)("", names))
