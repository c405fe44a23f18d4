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


def find_solutions(lab: LabSpec, explicit: Path | None = None) -> Path | None:
    """The folder holding `lab`'s reference, or None (a student's kit has none).

    Looked for in: the --solutions option, $ATTN_GRADE_SOLUTIONS, the kit this
    package was installed from, and ./solutions.
    """
    candidates = []
    if explicit is not None:
        candidates.append(Path(explicit))
    if os.environ.get("ATTN_GRADE_SOLUTIONS"):
        candidates.append(Path(os.environ["ATTN_GRADE_SOLUTIONS"]))
    candidates += [KIT_ROOT / "solutions", Path.cwd() / "solutions"]
    for root in candidates:
        for folder in (root / lab.id, root):
            if all((folder / f"{m}.py").is_file() for m in lab.modules):
                return folder.resolve()
    return None


def require_solutions(lab: LabSpec, explicit: Path | None = None, needed_for: str = "") -> Path:
    """find_solutions, or a ReferenceMissingError saying what needs them and how to pass them."""
    from attn_grade.errors import ReferenceMissingError

    folder = find_solutions(lab, explicit)
    if folder is None:
        why = f"; {needed_for}" if needed_for else ""
        raise ReferenceMissingError(
            f"The reference solutions of {lab.id} are not here (a student kit has none){why}: "
            "pass --solutions DIR."
        )
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
