"""The gradient-check table deliverable: the student's gradcheck.py, checked by measurement.

A lab declares it as a deliverable of kind "script-gradcheck" (deliverables.py):

    [[deliverables]]
    id = "gradcheck"
    kind = "script-gradcheck"
    script = "gradcheck.py"          # run like visualize.py: the table's path is sys.argv[1]
    produces = "gradcheck.txt"       # one row a line: FUNCTION GRADIENT RELATIVE_ERROR
    tests = ["attention_backward_gradient", ...]   # gradient tests (checks/gradient.py)
    points = 2

The script runs the student's numerical_gradient against each of their backward functions
and writes a table of relative errors. Then, in a sandboxed run of its own (fresh
processes the script never touched: a script that patches forward.* in its interpreter
patches nothing the grader measures), the grader calls the backward functions of the named
gradient tests on those tests' inputs at a fixed seed, and the forwards at the points of its
own centred-difference check (all of them probe calls: quiet, plain arrays back). Once the processes are gone, it measures each gradient
(checks/gradient.measure) and compares: every gradient it measured must be a row of the
table, and tell the same story. Relative errors of 1e-10 are rounding noise, and the two
measures differ (an elementwise one on the student's inputs, a directional one on the
grader's), so a row agrees when both are below AGREE_BELOW (right), or both are above it
within a factor of MAX_FACTOR (wrong, by about as much). A table with rows missing, or
made up where the code is wrong, earns nothing; a table made up for right code cannot be
told from a measured one, and says nothing false.
"""

from __future__ import annotations

import dataclasses
import io
import itertools
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from attn_grade.cases import PUBLIC_SEED, Case, test_case
from attn_grade.checks.gradient import gradient_calls, gradient_options, measure, problem_text
from attn_grade.errors import LabSpecError
from attn_grade.labspec import DeliverableSpec, LabSpec
from attn_grade.runner import Call, CallOutcome
from attn_grade.translation import N_, Sentence

AGREE_BELOW = 1e-5  # both below: the gradient is right (a correct one: about 1e-10)
# both above: the same order of magnitude, give or take the two measures' difference
# (measured on the known mistakes: within a factor of 30, tests/test_lab05.py)
MAX_FACTOR = 1e3
MAX_ROWS = 1000
MAX_TABLE_BYTES = 64 * 1024  # lab05's table is about 20 lines of 40 bytes
_ROW = re.compile(r"^\s*(\w+)\s+(\w+)\s+([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)\s*$",
                  re.IGNORECASE)

Row = tuple[str, str]  # (function, gradient)


def _cases(lab: LabSpec, spec: DeliverableSpec) -> list[Case]:
    names = list(spec.options.get("tests", []))
    tests = {t.name: t for t in lab.tests}
    if not names or any(n not in tests or tests[n].kind != "gradient" for n in names):
        raise LabSpecError(f"{lab.id}: deliverable {spec.id}: tests must name gradient tests")
    return [
        dataclasses.replace(test_case(lab, tests[n], PUBLIC_SEED), key=f"{spec.id}/{n}")
        for n in names
    ]


def table_calls(lab: LabSpec, spec: DeliverableSpec) -> list[Call]:
    """The grader's own measurement, run beside the script: each backward, and its forward
    at the check's points (probe calls of the script: quiet, skipped after a hang)."""
    calls = []
    for case in _cases(lab, spec):
        calls.append(dataclasses.replace(case.call(), probe_of=spec.id))
        calls += gradient_calls(lab, case, probe_of=spec.id)
    return calls


@dataclasses.dataclass(frozen=True)
class Unmeasured:
    """Why the grader could not measure a gradient: the function, and the problem (a
    Sentence of the grader's, or the student's process's own words)."""

    function: str
    problem: str | Sentence

    def text(self, _: Callable[[str], str]) -> str:
        return f"{self.function}: {problem_text(self.problem, _)}"[:300]


def measure_table(
    lab: LabSpec, spec: DeliverableSpec, outcomes: dict[str, CallOutcome]
) -> dict[Row, float | Unmeasured]:
    """Each gradient's error by the grader's measurement, or why it could not be measured."""
    measured: dict[Row, float | Unmeasured] = {}
    for case in _cases(lab, spec):
        options = gradient_options(lab, case)
        rows = [(case.function.name, case.function.outputs[i]) for i in options.gradients]
        outcome = outcomes.get(case.key)
        n = len(case.function.outputs)
        if outcome is None or outcome.status != "ok" or len(outcome.outputs) != n:
            problem = (Sentence(N_("it did not run")) if outcome is None
                       else outcome.sentence or outcome.message or outcome.status)
            measured.update({row: Unmeasured(case.function.name, problem) for row in rows})
            continue
        found = measure(lab, case, outcome.outputs, outcomes)
        for row, wrt in zip(rows, options.wrt):
            measured[row] = (Unmeasured(case.function.name, found.problem) if found.problem
                             else found.errors[wrt])
    return measured


def parse_table(text: str) -> dict[Row, float] | str:
    """The table's rows, or what is wrong with it. Lines that are not rows (a header) are
    skipped; a gradient given twice with two values is an error."""
    rows: dict[Row, float] = {}
    lines = itertools.islice(io.StringIO(text[:MAX_TABLE_BYTES]), MAX_ROWS * 2)  # never all
    for line in lines:
        found = _ROW.match(line[:200])
        if not found:
            continue
        row, value = (found[1], found[2]), float(found[3])
        if row in rows and rows[row] != value and not (math.isnan(value) and math.isnan(rows[row])):
            return "twice"
        rows[row] = value
    return rows


def agree(table: float, grader: float) -> bool:
    """Whether a table's error and the grader's tell the same story (module docstring)."""
    if math.isnan(table) or table < 0:
        return False
    if table < AGREE_BELOW and grader < AGREE_BELOW:
        return True
    if table < AGREE_BELOW or grader < AGREE_BELOW:
        return False
    if math.isinf(table) or math.isinf(grader):
        return math.isinf(table) == math.isinf(grader) or min(table, grader) >= 1.0
    return max(table, grader) <= MAX_FACTOR * min(table, grader)


def check_table(spec: DeliverableSpec, run: Any, _: Callable[[str], str]) -> tuple[str, str]:
    """The deliverable's status and message, translated with `_`, once the script ran
    (`run`: deliverables.ScriptRun with `measured`, from measure_table)."""
    name = Path(str(spec.options["produces"])).name
    data = run.files.get(name)
    if data is None:
        return "incomplete", _(
            "{script} ran but wrote no {name} (it gets the path to write as sys.argv[1])"
        ).format(script=spec.options["script"], name=name)
    if len(data) > MAX_TABLE_BYTES:  # read no further: 60 MiB of "ab\n" cost 1.8 GB as lines
        return "failed", _(
            "{name} is larger than {size} KiB: write only the table, one row a line"
        ).format(name=name, size=MAX_TABLE_BYTES // 1024)
    try:
        rows = parse_table(data.decode("utf-8"))
    except UnicodeDecodeError:
        return "failed", _(
            "{name} is not a text table: one row a line, FUNCTION GRADIENT ERROR"
        ).format(name=name)
    if rows == "twice":
        return "failed", _(
            "{name} gives one gradient twice, with two different errors"
        ).format(name=name)
    assert isinstance(rows, dict)
    measured: dict[Row, float | Unmeasured] = run.measured
    missing = [r for r in measured if r not in rows]
    if missing:
        return "incomplete", _("{name} has no row for {rows}").format(
            name=name, rows=_names(missing, _))
    unmeasured = [(r, m) for r, m in measured.items() if isinstance(m, Unmeasured)]
    if unmeasured:
        return "failed", _("the grader could not measure {rows}: {problem}").format(
            rows=_names([r for r, _m in unmeasured], _), problem=unmeasured[0][1].text(_))
    wrong = [(r, rows[r], m) for r, m in measured.items() if not agree(rows[r], float(m))]
    if wrong:
        row = _("{function} {gradient} yours {table:.1e}, the grader's {grader:.1e}")
        shown = "; ".join(row.format(function=r[0], gradient=r[1], table=t, grader=g)
                          for r, t, g in wrong[:4])
        return "failed", _(
            "{name} does not match the grader's measurement of your functions: {rows}"
        ).format(name=name, rows=shown)
    return "done", _(
        "{name} matches the grader's measurement of your functions on all {n} gradients"
    ).format(name=name, n=len(measured))


def _names(rows: list[Row], _: Callable[[str], str]) -> str:
    shown = ", ".join(f"{f} {g}" for f, g in rows[:6])
    if len(rows) <= 6:
        return shown
    return shown + " " + _("(and {n} more)").format(n=len(rows) - 6)
