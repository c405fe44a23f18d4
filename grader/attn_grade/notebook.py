"""Extract a lab's exercise functions from a student's notebook, without running it.

A notebook is a list of code cells in any order, with stray ones (a demo call, a
`!pip install`, `from google.colab import drive`, a half-written cell). The
grader needs one importable module: the lab's functions and what they use.

    1) read the code cells with nbformat (no cell is executed here);
    2) parse each cell with ast; a cell that does not parse is skipped;
    3) pick each exercise function: its last top-level `def` in the cell whose
       nbgrader grade_id is the function's name, else its last `def` anywhere;
    4) add, transitively, the last top-level import, def, class or assignment
       that binds each global name those functions use; everything else is left out.

The same assembly serves the notebook test cells (attn_grade.notebook_cells),
which read the kernel's cell history instead of a file.
"""

from __future__ import annotations

import ast
import json
import symtable
from dataclasses import dataclass, field
from pathlib import Path

from attn_grade.labspec import LabSpec
from attn_grade.report.plain import one_line
from attn_grade.translation import N_, Sentence

NOTEBOOK_MODULE = "extracted_from_notebook.py"  # what write_module writes beside the cells
NEVER_IMPORTED = ("attn_grade", "__future__")  # grader modules stay out of the student's module
MAX_NOTEBOOK_BYTES = 50 * 1024 * 1024  # outputs (images) included
MAX_CODE_CELLS = 2000  # parsing each costs time: a crafted notebook must not stall a batch
MAX_CODE_BYTES = 4 * 1024 * 1024  # all code cells together


@dataclass(frozen=True)
class CodeCell:
    source: str
    label: str  # how to name it in a message: "cell 3", "In [3]"
    grade_id: str | None = None  # nbgrader's, when the cell has one


@dataclass
class Extracted:
    code: str
    found: list[str]  # the lab's functions that were found
    missing: list[str]
    # "cell 4 (line 2: invalid syntax)": the grader's words, translated where shown
    skipped: list[Sentence] = field(default_factory=list)
    statements: list[_Statement] = field(default_factory=list)  # what `code` holds, in order


@dataclass(frozen=True)
class _Statement:
    position: tuple[int, int]  # (cell, statement): notebook order
    cell: CodeCell
    text: str
    binds: frozenset[str]
    uses: frozenset[str]
    is_def: bool
    is_import: bool = False
    line: int = 1  # its first line in the cell


def extract_code(notebook: Path, lab: LabSpec) -> str:
    """The source code of the lab's functions found in `notebook`, ready to import."""
    return extract(notebook, lab).code


def write_cells(extracted: Extracted, folder: Path) -> str:
    """Write `extracted` into `folder` so that an error names its cell and line: one file
    per cell ("cell 3.py", "In [3].py": each statement at its line in the cell) and a
    module that runs them in order; returns that module's file name."""
    cells: dict[str, list[str]] = {}
    runs = []
    for statement in _in_run_order(extracted.statements):
        lines = cells.setdefault(statement.cell.label, [])
        first = max(statement.line, len(lines) + 1)  # never over an earlier statement
        lines += [""] * (first - 1 - len(lines)) + statement.text.splitlines()
        runs.append((statement.cell.label, first, len(lines)))
    for label, lines in cells.items():
        (folder / f"{label}.py").write_text("\n".join(lines) + "\n", encoding="utf-8")
    module = NOTEBOOK_MODULE
    (folder / module).write_text(_runner_source(extracted.code, runs), encoding="utf-8")
    return module


def extract(notebook: Path, lab: LabSpec) -> Extracted:
    """The lab's functions found in `notebook`; SubmissionError if one is missing."""
    from attn_grade.submission import SubmissionError

    name = one_line(notebook.name)
    extracted = assemble(read_cells(notebook), lab, name)
    if extracted.missing:
        raise SubmissionError(missing_message(extracted, lab, name))
    return extracted


def _runner_source(code: str, runs: list[tuple[str, int, int]]) -> str:
    header = code.splitlines()[0]  # "# Extracted by attn-grade from NAME: ..."
    return f"""{header}
# Each statement runs from its cell's file beside this one, at its line in the cell,
# so that a traceback names the cell: File ".../cell 3", line 2, in softmax.
import os as _os

_HERE = _os.path.dirname(_os.path.abspath(__file__))
for _cell, _first, _last in {runs!r}:
    with open(_os.path.join(_HERE, _cell + ".py"), encoding="utf-8") as _file:
        _lines = _file.read().splitlines()[_first - 1 : _last]
    _source = "\\n" * (_first - 1) + "\\n".join(_lines) + "\\n"
    exec(compile(_source, _os.path.join(_HERE, _cell), "exec"), globals())
"""


def missing_message(extracted: Extracted, lab: LabSpec, where: str) -> Sentence:
    wanted = "; ".join(lab.functions[name].signature for name in extracted.missing)
    lines = [Sentence(N_("{where}: no definition of {wanted} in any code cell."),
                      {"where": where, "wanted": wanted})]
    if extracted.found:
        lines.append(Sentence(N_("Found: {functions}."), {"functions": ", ".join(extracted.found)}))
    for skipped in extracted.skipped:
        lines.append(Sentence(N_("Skipped {cell}: fix it and save the notebook."), {"cell": skipped}))
    lines.append(Sentence(
        N_("Define each exercise function at the top level of a code cell (`def name(...):`).")
    ))
    # the lines joined: a template of placeholders only, the same in every language
    template = "\n".join(f"{{line{n}}}" for n in range(len(lines)))
    return Sentence(template, {f"line{n}": line for n, line in enumerate(lines)})


def read_cells(notebook: Path) -> list[CodeCell]:
    """The code cells of an .ipynb file, read from its JSON and checked field by field.

    Every field may be malformed (the file is the student's): what a notebook must
    have is a SubmissionError in the notebook's terms; what is optional and wrong
    (metadata, a grade_id) is ignored. An old (v3) notebook is converted by nbformat.
    """
    from attn_grade.submission import SubmissionError

    name = one_line(notebook.name)
    content = _notebook_json(notebook, name)
    if "cells" not in content and "worksheets" in content:
        content = _converted(content, name)
    cells = content.get("cells")
    if not isinstance(cells, list):
        raise SubmissionError(Sentence(
            N_('{name} is not a Jupyter notebook: it has no list of cells ("cells" is {kind}). '
               "Save it again from Jupyter or Colab."),
            {"name": name, "kind": _kind(cells)},
        ))
    code_cells = []
    for number, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise SubmissionError(Sentence(
                N_("{name}, cell {number}: its source is {kind}, not text. Save the notebook "
                   "again from Jupyter or Colab."),
                {"name": name, "number": number, "kind": _kind(source)},
            ))
        metadata = cell.get("metadata")
        nbgrader = metadata.get("nbgrader") if isinstance(metadata, dict) else None
        grade_id = nbgrader.get("grade_id") if isinstance(nbgrader, dict) else None
        code_cells.append(
            CodeCell(source, f"cell {number}", grade_id if isinstance(grade_id, str) else None)
        )
    size = sum(len(c.source) for c in code_cells)
    if len(code_cells) > MAX_CODE_CELLS or size > MAX_CODE_BYTES:
        raise SubmissionError(Sentence(
            N_("{name} has {cells} code cells and {kib} KiB of code: more than a lab needs "
               "(at most {most} cells, {mib} MiB)"),
            {"name": name, "cells": len(code_cells), "kib": size // 1024,
             "most": MAX_CODE_CELLS, "mib": MAX_CODE_BYTES // 2**20},
        ))
    return code_cells


def _notebook_json(notebook: Path, name: str) -> dict:
    from attn_grade.submission import SubmissionError

    with notebook.open("rb") as f:
        raw = f.read(MAX_NOTEBOOK_BYTES + 1)
    if len(raw) > MAX_NOTEBOOK_BYTES:
        raise SubmissionError(Sentence(
            N_("{name} is larger than {mib} MiB: clear its outputs (Edit > Clear all outputs) "
               "and save it again"),
            {"name": name, "mib": MAX_NOTEBOOK_BYTES // 2**20},
        ))
    try:
        content = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise SubmissionError(Sentence(
            N_("{name} is not a readable notebook: it is not UTF-8 text"), {"name": name}
        )) from exc
    except json.JSONDecodeError as exc:
        raise SubmissionError(Sentence(
            N_("{name} is not a readable notebook: its JSON is broken at line {line}, column "
               "{column} ({problem}). Save it again from Jupyter or Colab."),
            {"name": name, "line": exc.lineno, "column": exc.colno, "problem": exc.msg},
        )) from exc
    except RecursionError as exc:
        raise SubmissionError(Sentence(
            N_("{name} is not a readable notebook: its JSON nests too deep"), {"name": name}
        )) from exc
    if not isinstance(content, dict):
        raise SubmissionError(Sentence(
            N_("{name} is not a Jupyter notebook: it holds {kind} in JSON, not a notebook "
               "object with cells"),
            {"name": name, "kind": _kind(content)},
        ))
    return content


def _converted(content: dict, name: str) -> dict:
    """An nbformat 3 notebook (cells inside worksheets) as nbformat 4."""
    from attn_grade.submission import SubmissionError

    try:
        import nbformat

        return dict(nbformat.reads(json.dumps(content), as_version=4))
    except Exception as exc:  # noqa: BLE001 - nbformat raises many kinds on a damaged file
        raise SubmissionError(Sentence(
            N_("{name} is an old (version 3) notebook that cannot be converted: {problem}. "
               "Save it again from a recent Jupyter."),
            {"name": name, "problem": one_line(exc)[:200]},
        )) from exc


def _kind(value: object) -> Sentence:
    kinds = {dict: N_("an object"), list: N_("a list"), str: N_("a string"),
             bool: N_("true or false")}
    if value is None:
        return Sentence(N_("missing"))
    number = isinstance(value, (int, float))
    return Sentence(kinds.get(type(value), N_("a number") if number else N_("data")))


def assemble(cells: list[CodeCell], lab: LabSpec, where: str) -> Extracted:
    """One module holding the lab's functions found in `cells` and what they use."""
    statements, skipped = [], []
    for index, cell in enumerate(cells):
        try:
            tree = ast.parse(python_source(cell.source))
            lines = python_source(cell.source).splitlines()
            found = [
                _statement(node, lines, (index, n), cell, lab) for n, node in enumerate(tree.body)
            ]
        except SyntaxError as exc:
            problem = one_line(exc.msg)
            if exc.lineno:
                skipped.append(Sentence(N_("{cell} (line {line}: {problem})"),
                                        {"cell": cell.label, "line": exc.lineno, "problem": problem}))
            else:
                skipped.append(Sentence(N_("{cell} ({problem})"),
                                        {"cell": cell.label, "problem": problem}))
            continue
        except ValueError:  # e.g. a NUL character in the source
            skipped.append(Sentence(
                N_("{cell} (it holds characters Python cannot read, e.g. NUL)"), {"cell": cell.label}
            ))
            continue
        except (RecursionError, MemoryError):  # ast, unparse or symtable on deep nesting
            skipped.append(Sentence(
                N_("{cell} (its code is nested too deeply for Python to read)"), {"cell": cell.label}
            ))
            continue
        statements += [s for s in found if s is not None]

    chosen = {}
    for name in lab.functions:
        defs = [s for s in statements if s.is_def and name in s.binds]
        preferred = [s for s in defs if s.cell.grade_id == name]
        if preferred or defs:
            chosen[name] = (preferred or defs)[-1]
    found = [n for n in lab.functions if n in chosen]
    missing = [n for n in lab.functions if n not in chosen]

    selected = {s.position: s for s in chosen.values()}
    wanted = set().union(*(s.uses for s in chosen.values())) - set(chosen)
    seen: set[str] = set()
    while wanted - seen:
        name = sorted(wanted - seen)[0]
        seen.add(name)
        binders = [s for s in statements if name in s.binds and not (s.binds & set(chosen))]
        if binders:
            selected[binders[-1].position] = binders[-1]
            wanted |= binders[-1].uses
    return Extracted(
        _render(selected, where), found, missing, skipped, _in_run_order(selected.values())
    )


def python_source(text: str) -> str:
    """A cell's text as Python: IPython magics, shell escapes and `obj?` become `pass`."""
    if text.lstrip().startswith("%%"):
        return ""  # a cell magic: the whole cell is not Python
    out = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith(("%", "!")) or (stripped.endswith("?") and "#" not in stripped):
            line = line[: len(line) - len(line.lstrip())] + "pass"
        out.append(line)
    return "\n".join(out)


def _statement(
    node: ast.stmt, lines: list[str], position: tuple[int, int], cell: CodeCell, lab: LabSpec
) -> _Statement | None:
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        text = statement_text(node, lines)
        return _Statement(
            position, cell, text, frozenset([node.name]), _module_names(node), True, line=first
        )
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        kept = _kept_import(node, set(lab.modules))
        if kept is None:
            return None
        binds = {a.asname or a.name.split(".")[0] for a in kept.names}
        return _Statement(
            position, cell, ast.unparse(kept), frozenset(binds), frozenset(), False, True, first
        )
    if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
        binds = frozenset(t.id for t in node.targets)
        text = ast.unparse(node)
        return _Statement(position, cell, text, binds, _uses(node.value), False, line=first)
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
        binds = frozenset([node.target.id])
        text = ast.unparse(node)
        return _Statement(position, cell, text, binds, _uses(node.value), False, line=first)
    return None  # a call, a print, a loop...: stray code, never run by the grader


def statement_text(node: ast.stmt, lines: list[str]) -> str:
    """A top-level statement's lines, with its decorators and its body's trailing comments."""
    first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
    last = node.end_lineno or node.lineno
    while last < len(lines) and (not lines[last].strip() or lines[last][:1].isspace()):
        last += 1  # e.g. a `### END SOLUTION` after the body's last statement
    return "\n".join(lines[first - 1 : last]).rstrip()


def _kept_import(
    node: ast.Import | ast.ImportFrom, lab_modules: set[str]
) -> ast.Import | ast.ImportFrom | None:
    """The import without the lab's own modules, the grader and `*`; None if nothing is left."""
    if isinstance(node, ast.ImportFrom):
        module = (node.module or "").split(".")[0]
        if node.level or module in lab_modules or module in NEVER_IMPORTED:
            return None
        names = [a for a in node.names if a.name != "*"]
        return ast.ImportFrom(node.module, names, 0) if names else None
    skip = lab_modules | set(NEVER_IMPORTED)
    names = [a for a in node.names if a.name.split(".")[0] not in skip]
    return ast.Import(names) if names else None


def _module_names(node: ast.stmt) -> frozenset[str]:
    """Names a def or class reads from module scope: the globals of its body and of any
    nested scope, plus what its decorators, defaults and bases read when it is defined.
    Its parameters and locals are not among them: a stray `x = ...` cell must not be
    pulled in because a function has a parameter `x`."""
    table = symtable.symtable(ast.unparse(node), "<cell>", "exec")
    names = {s.get_name() for s in table.get_symbols() if s.is_referenced()}
    scopes = list(table.get_children())
    while scopes:
        scope = scopes.pop()
        names |= {s.get_name() for s in scope.get_symbols() if s.is_global() and s.is_referenced()}
        scopes.extend(scope.get_children())
    return frozenset(names)


def _uses(node: ast.AST) -> frozenset[str]:
    return frozenset(
        n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    )


def _in_run_order(statements) -> list[_Statement]:
    """Imports first (an assignment may use a module imported in a later cell), then
    notebook order."""
    return sorted(statements, key=lambda s: (not s.is_import, s.position))


def _render(selected: dict[tuple[int, int], _Statement], where: str) -> str:
    parts = [f"# Extracted by attn-grade from {where}: the exercise functions and what they use."]
    label = None
    for statement in _in_run_order(selected.values()):
        if statement.cell.label != label:
            label = statement.cell.label
            parts.append(f"\n# --- {label} ---")
        parts.append(statement.text + ("\n" if statement.is_def else ""))
    return "\n".join(parts) + "\n"
