"""Submissions of a made-up class for lab01, built from the reference: correct, wrong,
crashing, hanging, memory-hungry, malformed, and in every accepted format.

Used by tests/test_batch.py, tests/test_gradescope.py and benchmarks/bench_batch.py.
"""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parents[2]
REFERENCE = KIT_ROOT / "solutions" / "lab01"
STUDENT_FILES = (
    "softmax.py",
    "attention.py",
    "visualize.py",
    "example_sentence.py",
    "REPORT.md",
    "CHECKLIST.md",
)
SCALE = "/ np.sqrt(d_k)"

# What each kind does to the reference; None keeps it as is.
BREAKAGES = {
    "correct": None,
    "missing_scale": ("attention.py", SCALE, ""),
    "crash": (
        "softmax.py",
        "    x = np.asarray",
        "    import os\n    os._exit(3)\n    x = np.asarray",
    ),
    "raises": ("attention.py", "    d_k = q.shape[-1]", "    raise ValueError('oops')"),
    "syntax_error": ("softmax.py", "def softmax(x, axis=-1):", "def softmax(x, axis=-1)"),
    "hang_on_import": (
        "softmax.py",
        "import numpy as np",
        "import time\ntime.sleep(3600)\nimport numpy as np",
    ),
    "memory_hog": (
        "softmax.py",
        "    x = np.asarray",
        "    hog = bytearray(16 * 1024**3)\n    x = np.asarray",
    ),
}


def student_folder(target: Path, kind: str = "correct") -> Path:
    """A lab01 folder as a student hands it in, broken the way `kind` says."""
    target.mkdir(parents=True)
    for name in STUDENT_FILES:
        shutil.copy2(REFERENCE / name, target / name)
    breakage = BREAKAGES[kind]
    if breakage is not None:
        name, old, new = breakage
        text = (target / name).read_text(encoding="utf-8")
        assert old in text, f"{kind}: {old!r} is not in the reference {name}"
        (target / name).write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def _function(module: str, name: str) -> str:
    text = (REFERENCE / f"{module}.py").read_text(encoding="utf-8")
    return text[text.index(f"def {name}(") :].split("if __name__")[0].rstrip() + "\n"


def _functions(kind: str) -> list[str]:
    attention = _function("attention", "scaled_dot_product_attention")
    if kind == "missing_scale":
        attention = attention.replace(SCALE, "")
    return [_function("softmax", "softmax"), attention]


def single_file(target: Path, kind: str = "correct") -> Path:
    """Both functions in one .py file, as a student might paste them."""
    target.write_text("import numpy as np\n\n\n" + "\n\n".join(_functions(kind)), encoding="utf-8")
    return target


def zipped(folder: Path, target: Path) -> Path:
    """`folder` zipped under one top folder, as an LMS download looks."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            archive.write(path, Path(folder.name) / path.relative_to(folder))
    return target


def notebook(target: Path, kind: str = "correct") -> Path:
    """A notebook: a markdown cell, the imports, then one code cell per function."""
    import nbformat

    cells = [
        nbformat.v4.new_markdown_cell("# Lab 01"),
        nbformat.v4.new_code_cell("import numpy as np"),
    ]
    cells += [nbformat.v4.new_code_cell(source) for source in _functions(kind)]
    book = nbformat.v4.new_notebook(cells=cells)
    book.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(book, target)
    return target
