"""`attn_grade.check("lab01")` inside a real notebook, executed by nbclient in a real kernel.

The notebook defines lab01's functions (the reference's attention, a softmax without the
max shift: the unstable-softmax mistake), calls attn_grade.check("lab01") and then one
test; the test reads the HTML the kernel displayed. The kernel is a kernelspec named
python3 for this interpreter, in a private JUPYTER_PATH (as in test_nbgrader.py).
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"

WRONG_SOFTMAX = '''\
def softmax(x, axis=-1):
    e = np.exp(x)  # no max subtracted: overflows for large logits
    return e / e.sum(axis=axis, keepdims=True)
'''


def _reference_def(path: Path, name: str) -> str:
    source = path.read_text(encoding="utf-8")
    node = next(n for n in ast.parse(source).body
                if isinstance(n, ast.FunctionDef) and n.name == name)
    return ast.get_source_segment(source, node)


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> list:
    """The outputs of each code cell of the executed notebook."""
    home = tmp_path_factory.mktemp("jupyter")
    kernels = home / "kernels" / "python3"
    kernels.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (attn-grade tests)",
        "language": "python",
    }
    (kernels / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    attention = _reference_def(SOLUTIONS / "lab01" / "attention.py", "scaled_dot_product_attention")
    cells = [
        "import numpy as np",
        WRONG_SOFTMAX,
        "def broken(:\n    pass",  # does not parse: skipped, and said
        'import attn_grade\nearly = attn_grade.check("lab01", "attention_single")',
        attention,
        'print("<script>document.title=1</script>")  # a stray cell: never graded',
        'import attn_grade\nresult = attn_grade.check("lab01")\nresult',
        'one = attn_grade.check("lab01", "softmax_rows")\n'
        'print([(t.name, t.status) for t in one.tests], type(result).__mro__[1].__name__)',
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    notebook.cells[2].metadata["tags"] = ["raises-exception"]
    mp = pytest.MonkeyPatch()
    mp.setenv("JUPYTER_PATH", str(home))
    mp.delenv("ATTN_GRADE_SOLUTIONS", raising=False)  # the editable install finds the reference
    try:
        client = nbclient.NotebookClient(
            notebook, timeout=300, kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path_factory.mktemp("nb"))}},
        )
        client.execute()
    finally:
        mp.undo()
    return [cell.outputs for cell in notebook.cells]


def _html(outputs: list) -> list[str]:
    return [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})]


def test_check_displays_the_html_report_inline(executed):
    pages = _html(executed[6])
    assert len(pages) == 1, executed[6]
    page = pages[0]
    assert "<script" not in page  # no JavaScript: rich display only
    assert 'data-test="softmax_rows" data-status="passed"' in page
    assert 'data-test="attention_single" data-status="passed"' in page
    assert 'data-test="softmax_large_logits" data-status="failed"' in page
    assert "Likely mistake: unstable-softmax" in page
    assert 'src="data:image/png;base64,' in page  # the heatmap, embedded
    assert "this notebook" in page


def test_check_returns_the_result_with_a_short_repr(executed):
    shown = [o["data"]["text/plain"] for o in executed[6] if o.get("output_type") == "execute_result"]
    assert len(shown) == 1 and shown[0].startswith("<attn-grade lab01: "), executed[6]
    score, total = shown[0].removeprefix("<attn-grade lab01: ").rstrip(">").split(" / ")
    assert 0 < float(score) < float(total)


def test_check_of_one_test(executed):
    printed = "".join(o.get("text", "") for o in executed[7] if o.get("output_type") == "stream")
    assert "[('softmax_rows', 'passed')] LabResult" in printed, executed[7]
    page = _html(executed[7])[0]
    assert page.count('class="test"') == 1


def test_check_before_a_function_is_defined_says_so(executed):
    page = _html(executed[3])[0]
    assert "Define scaled_dot_product_attention(q, k, v, mask=None) in a code cell above" in page
    assert "Skipped In [3] (line 1: " in page
    assert 'data-test="attention_single" data-status="error"' in page


def test_check_outside_a_notebook_is_one_clear_error():
    import attn_grade
    from attn_grade.errors import UsageError

    with pytest.raises(UsageError, match="inside a Jupyter or Colab notebook"):
        attn_grade.check("lab01")


def test_import_attn_grade_is_cheap():
    """`import attn_grade` loads none of the engine, IPython or matplotlib."""
    import subprocess

    code = ("import sys, attn_grade; heavy = [m for m in ('numpy', 'IPython', 'matplotlib', "
            "'attn_grade.grading', 'rich') if m in sys.modules]; print(heavy)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
