"""One source: the student stubs in exercises/ are generated from solutions/.

A reference module marks what students write with nbgrader's own markers:

    # TODO: subtract the max, exponentiate, normalise (about 3 lines)
    ### BEGIN SOLUTION
    ...
    ### END SOLUTION

The stub keeps everything else (signature, docstring with shapes, given code,
the TODO comment) and replaces each marked block with a `raise NotImplementedError`.
The example sentence module is generated from the lab spec into both folders.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from attn_grade.errors import LabSpecError
from attn_grade.labspec import LabSpec
from attn_grade.reference import KIT_ROOT, MISTAKES_MODULE

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
EXAMPLE_MODULE = "example_sentence.py"
_DEF = re.compile(r"^\s*def\s+(\w+)\s*\(")


def make_stub(source: str, filename: str = "<source>") -> str:
    """Replace every BEGIN/END SOLUTION block by a NotImplementedError naming its function."""
    out: list[str] = []
    inside = False
    function = "this part"
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        stripped = line.strip()
        found = _DEF.match(line)
        if found and not inside:
            function = found.group(1)
        if stripped.startswith(BEGIN):
            if inside:
                raise LabSpecError(f"{filename}:{number}: nested {BEGIN}")
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            out.append(f'{indent}raise NotImplementedError("{function}: your code here")\n')
        elif stripped.startswith(END):
            if not inside:
                raise LabSpecError(f"{filename}:{number}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise LabSpecError(f"{filename}: {BEGIN} without {END}")
    return "".join(out)


def solution_bodies(source: str) -> list[str]:
    """The text of every marked block (what a student release must never contain)."""
    return [m.strip() for m in re.findall(rf"{BEGIN}\n(.*?){END}", source, flags=re.S) if m.strip()]


def example_module(lab: LabSpec) -> str | None:
    """Python source holding the lab's example sentence, generated from the spec."""
    if lab.example is None:
        return None
    lines = [
        f'"""The example sentence of {lab.id}. Generated from the lab spec: do not edit."""',
        "",
        "import numpy as np",
        "",
        f"TOKENS = {json.dumps(list(lab.example.tokens))}",
    ]
    for name, gen in lab.example.args.items():
        if "array" in gen:
            dtype = f'"{gen["dtype"]}"' if gen.get("dtype") else "float"  # as the spec says
            lines.append(f"{name.upper()} = np.array({json.dumps(gen['array'])}, dtype={dtype})")
    return "\n".join(lines) + "\n"


def exercise_files(lab: LabSpec, solutions: Path) -> dict[str, str]:
    """File name -> text of every generated file of the lab's exercises folder."""
    files = {}
    for path in sorted(solutions.glob("*.py")):
        if path.stem == MISTAKES_MODULE or path.name == EXAMPLE_MODULE:
            continue
        files[path.name] = make_stub(path.read_text(encoding="utf-8"), str(path))
    example = example_module(lab)
    if example is not None:
        files[EXAMPLE_MODULE] = example
    return files


def exercises_dir(lab: LabSpec) -> Path:
    return KIT_ROOT / "exercises" / lab.id


def stale_files(lab: LabSpec, solutions: Path, exercises: Path) -> list[str]:
    """Generated files whose copy in `exercises` (or the example in `solutions`) is out of date."""
    stale = [
        name
        for name, text in exercise_files(lab, solutions).items()
        if not (exercises / name).is_file() or (exercises / name).read_text("utf-8") != text
    ]
    example = example_module(lab)
    target = solutions / EXAMPLE_MODULE
    if example is not None and (not target.is_file() or target.read_text("utf-8") != example):
        stale.append(f"solutions/{lab.id}/{EXAMPLE_MODULE}")
    return stale


def write_exercises(lab: LabSpec, solutions: Path, exercises: Path) -> list[Path]:
    exercises.mkdir(parents=True, exist_ok=True)
    written = []
    example = example_module(lab)
    if example is not None:
        (solutions / EXAMPLE_MODULE).write_text(example, encoding="utf-8")
    for name, text in exercise_files(lab, solutions).items():
        (exercises / name).write_text(text, encoding="utf-8")
        written.append(exercises / name)
    return written
