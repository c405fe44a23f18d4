"""A lab's import policy, checked on the submission's source (never by patching imports).

A lab that says "NumPy only" lists `forbidden_imports = ["torch", ...]` in its
[lab] table. Every .py file of the submission is parsed (not run), and each
import of a forbidden package, including `__import__("torch")` and
`importlib.import_module("torch")` with a literal name, is reported with its
file and line. The engine then fails the tests of the functions in that file.
"""

from __future__ import annotations

import ast
import threading
from dataclasses import dataclass
from pathlib import Path

from attn_grade.result import FAILED, TestResult
from attn_grade.safe_files import tree_files
from attn_grade.translation import gettext_for

MAX_SOURCE_BYTES = 2 * 1024 * 1024
_PARSE_LOCK = threading.Lock()


@dataclass(frozen=True)
class Violation:
    file: str  # relative to the submission folder
    line: int
    module: str  # what was imported, e.g. "torch.nn"; "" for a file too large to check

    def message(self, lang: str = "en") -> str:
        _ = gettext_for(lang)
        if not self.module:
            return _(
                "{file} is larger than {mib} MiB, too large to check its imports: "
                "this lab is NumPy only. Keep your modules to your code."
            ).format(file=self.file, mib=MAX_SOURCE_BYTES // 2**20)
        return _(
            "{file}, line {line} imports {module}: this lab is NumPy only "
            "({top} is not allowed). Write it with NumPy and grade again."
        ).format(file=self.file, line=self.line, module=self.module, top=self.module.split(".")[0])


def forbidden_imports(submission: Path, forbidden: tuple[str, ...]) -> list[Violation]:
    """Imports of `forbidden` packages in the submission's .py files, in file and line order."""
    if not forbidden:
        return []
    found = []
    for path in [p for p in tree_files(Path(submission)) if p.suffix == ".py"]:  # no recursion
        if path.is_symlink() or not path.is_file():
            continue
        if path.stat().st_size > MAX_SOURCE_BYTES:  # padding must not hide an import
            found.append(Violation(str(path.relative_to(submission)), 0, ""))
            continue
        try:
            with _PARSE_LOCK:  # CPython 3.11's ast.parse is not thread-safe (SystemError)
                tree = ast.parse(path.read_bytes(), filename=path.name)
        except (SyntaxError, ValueError, SystemError, RecursionError, MemoryError):
            continue  # Python cannot compile it either: the tests report the error
        relative = str(path.relative_to(submission))
        for line, module in _imports(tree):
            if module.split(".")[0] in forbidden:
                found.append(Violation(relative, line, module))
    return found


def _imports(tree: ast.AST) -> list[tuple[int, str]]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append((node.lineno, node.module))
        elif isinstance(node, ast.Call) and _is_dynamic_import(node.func) and node.args:
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                names.append((node.lineno, first.value))
    return sorted(names)


def _is_dynamic_import(func: ast.expr) -> bool:
    if isinstance(func, ast.Name):
        return func.id in ("__import__", "import_module")
    return isinstance(func, ast.Attribute) and func.attr in ("__import__", "import_module")


def apply_policy(
    tests: list[TestResult],
    violations: list[Violation],
    modules: dict[str, str],
    lang: str = "en",
) -> list[TestResult]:
    """Fail the tests of each function (`modules`: function -> module) whose module breaks
    the policy. A forbidden import anywhere else (a helper any module may use) fails all."""
    lab_files = {f"{m}.py" for m in modules.values()}
    elsewhere = next((v for v in violations if v.file not in lab_files), None)
    for test in tests:
        own = [v for v in violations if v.file == f"{modules.get(test.function)}.py"]
        violation = own[0] if own else elsewhere
        if violation is not None:
            test.status, test.points = FAILED, 0.0
            test.message, test.diagnosis, test.hint = violation.message(lang), "forbidden-import", None
    return tests
