"""Find and load the reference solutions (trusted code, run in the grader's process).

Lab folders are plain folders whose modules import each other by plain name
(`from softmax import softmax`). To load one lab's reference without leaving
`softmax` & co. in sys.modules (where another lab's could collide), the modules
are imported with the folder on sys.path and then moved out of sys.modules.
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from attn_grade.labspec import LabSpec

MISTAKES_MODULE = "known_mistakes"
KIT_ROOT = Path(__file__).resolve().parents[2]


def kit_private_paths() -> list[Path]:
    """The parts of a clone of this repository no student process may read, as root: its
    git history (every solution ever committed, and public.npz), the reference, and the
    tests (the corpus holds correct implementations). See sandbox.launch.keep_private."""
    return [p for p in (KIT_ROOT / ".git", KIT_ROOT / "solutions", KIT_ROOT / "tests") if p.exists()]


STUDENT_KIT_MARKER = "student-kit.toml"  # beside a lab.toml that `attn-grade release` wrote


def find_solutions(lab: LabSpec, explicit: Path | None = None) -> Path | None:
    """The folder holding `lab`'s reference, or None (a student's kit has none).

    An explicit place (the --solutions option, else $ATTN_GRADE_SOLUTIONS) is the only
    one looked at: a wrong one raises ReferenceMissingError, never falls back to another
    reference. Without one: the kit this package was installed from, then ./solutions.
    In each place, the lab's modules are looked for in PLACE/LAB, then in PLACE itself.
    """
    if explicit is not None:
        return _explicit_solutions(lab, Path(explicit), "--solutions")
    if os.environ.get("ATTN_GRADE_SOLUTIONS"):
        return _explicit_solutions(lab, Path(os.environ["ATTN_GRADE_SOLUTIONS"]),
                                   "ATTN_GRADE_SOLUTIONS")
    if is_student_kit(lab):
        return None  # a student's own ./solutions folder is not the reference
    for root in (KIT_ROOT / "solutions", Path.cwd() / "solutions"):
        folder = _lab_folder(lab, root)
        if folder is not None:
            return folder
    return None


def is_student_kit(lab: LabSpec) -> bool:
    """True when `lab`'s spec is the student kit's, without its hidden tests."""
    return (lab.spec_dir / STUDENT_KIT_MARKER).is_file()


def _lab_folder(lab: LabSpec, root: Path) -> Path | None:
    for folder in (root / lab.id, root):
        if all((folder / f"{m}.py").is_file() for m in lab.modules):
            return folder.resolve()
    return None


def _explicit_solutions(lab: LabSpec, root: Path, given_by: str) -> Path:
    from attn_grade.errors import ReferenceMissingError
    from attn_grade.translation import N_, Sentence

    folder = _lab_folder(lab, root)
    if folder is None:
        values = {"option": given_by, "path": str(root), "lab": lab.id}
        if root.is_dir():
            raise ReferenceMissingError(Sentence(
                N_("{option} {path} holds no reference of {lab} ({modules} in {lab}/ or in it)"),
                {**values, "modules": ", ".join(f"{m}.py" for m in lab.modules)}))
        if root.exists():
            raise ReferenceMissingError(Sentence(N_("{option} {path} is not a folder"), values))
        raise ReferenceMissingError(Sentence(N_("{option} {path} does not exist"), values))
    if is_student_kit(lab):
        # its lab spec has no hidden tests: grading with a reference would skip them silently
        raise ReferenceMissingError(Sentence(N_(
            "this attn-grade is a student kit: its {lab} spec has no hidden tests, so "
            "{option} would grade the public tests only. Install the full kit to grade: "
            "{command}"), {"lab": lab.id, "option": given_by, "command": FULL_KIT_INSTALL}))
    return folder


FULL_KIT_INSTALL = "python -m pip install -e 'PATH/TO/attn-grade[instructor]'"


def require_solutions(
    lab: LabSpec, explicit: Path | None = None, needed_for: str = ""
) -> Path:
    """find_solutions, or a ReferenceMissingError saying what needs them (`needed_for`, a
    message marked with N_) and how to pass them."""
    from attn_grade.errors import ReferenceMissingError
    from attn_grade.translation import N_, Sentence

    folder = find_solutions(lab, explicit)
    if folder is None:
        why = Sentence(N_("; {reason}"), {"reason": Sentence(needed_for)}) if needed_for else ""
        if is_student_kit(lab):
            raise ReferenceMissingError(Sentence(N_(
                "this attn-grade is a student kit, without the reference solutions of "
                "{lab} nor its hidden tests{why}. Install the full kit: {command}"),
                {"lab": lab.id, "why": why, "command": FULL_KIT_INSTALL}))
        raise ReferenceMissingError(Sentence(N_(
            "The reference solutions of {lab} are not here (a student kit has none){why}: "
            "pass --solutions DIR."), {"lab": lab.id, "why": why}))
    return folder


@dataclass
class Reference:
    folder: Path
    functions: dict[str, Callable]
    variants: dict[str, Callable]  # known-mistake variants by name

    def function(self, name: str) -> Callable:
        return self.functions[name]


def load_reference(lab: LabSpec, folder: Path) -> Reference:
    names = list(lab.modules)
    if (folder / f"{MISTAKES_MODULE}.py").is_file():
        names.append(MISTAKES_MODULE)
    modules = _import_isolated(folder, names)
    functions = {}
    for fn in lab.functions.values():
        functions[fn.name] = getattr(modules[fn.module], fn.name)
    variants = {}
    mistakes = modules.get(MISTAKES_MODULE)
    for mistake in lab.mistakes:
        for names_ in mistake.variants.values():
            for name in names_:
                if mistakes is None or not hasattr(mistakes, name):
                    raise AttributeError(f"{folder}/{MISTAKES_MODULE}.py has no variant {name}")
                variants[name] = getattr(mistakes, name)
    return Reference(folder, functions, variants)


def _import_isolated(folder: Path, names: list[str]) -> dict:
    saved = {n: sys.modules.pop(n) for n in list(sys.modules) if n in _plain_names(folder)}
    sys.path.insert(0, str(folder))
    try:
        return {n: importlib.import_module(n) for n in names}
    finally:
        sys.path.remove(str(folder))
        for n in _plain_names(folder):
            sys.modules.pop(n, None)
        sys.modules.update(saved)


def _plain_names(folder: Path) -> set[str]:
    return {p.stem for p in folder.glob("*.py")}
