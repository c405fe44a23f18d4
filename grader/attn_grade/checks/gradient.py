"""Gradient tests: is the student's backward the gradient of the student's own forward?

A lab declares one as a test of kind "gradient" (labspec.TEST_KINDS). Its function is a
backward pass, graded like a values test (its outputs against the reference's, with the
known mistakes' diagnosis); the grader also runs its own centred-difference check of the
student's forward against the student's backward, and says which of two things went wrong:
the backward is the exact gradient of a forward that is not the reference's, or the
backward is not the gradient of the student's own forward.

    [[tests]]
    name = "attention_backward_gradient"
    kind = "gradient"
    function = "attention_backward"        # the backward; its arguments as usual
    [tests.gradient]
    module = "forward"                     # the forward: <module>.<forward>, in the submission
    forward = "scaled_dot_product_attention"
    forward_outputs = 2                    # it returns (out, weights)
    output = 0                             # dout is dL/d(out): L = sum(dout * out)
    dout = "dout"                          # the backward's argument holding dL/d(output); a
                                           # test without it checks L = sum(output) (a loss)
    wrt = ["q", "k", "v"]                  # the gradients the backward returns, in order
    gradients = [0, 1, 2]                  # which of its outputs they are (default: all)
    forward_args = ["q", "k", "v"]         # the forward's positional arguments (default: the
                                           # backward's, but dout); its keywords: the test's
    extra.b = { normal = [4] }             # arguments only the forward takes (inputs.py)
    directions = 3                         # random directions per input (default 3)

`wrt` names an argument, or an entry of a dict argument ("params.w_q"). Student code runs
only in the sandboxed process, as calls of the forward on inputs the grader built (probe
calls: after the tests, quiet, skipped for a forward that hung), which send back plain
arrays. Afterwards the grader forms L at x + eps u and x - eps u for random unit
directions u of each input, and compares (L+ - L-) / (2 eps) with sum(gradient * u).
Directional derivatives (as torch.autograd.gradcheck's fast mode) cost 2 calls per
direction where a full numerical gradient costs 2 per entry. The directions are drawn
from the test's inputs, so a regrade on the same seed checks the same directions.

The check never changes points (they are the values test's): it only says what is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from attn_grade.cases import Case, as_float64
from attn_grade.errors import LabSpecError
from attn_grade.expected import Expectation
from attn_grade.inputs import build_args
from attn_grade.labspec import LabSpec
from attn_grade.result import PASSED, TestResult
from attn_grade.runner import Call, CallOutcome
from attn_grade.translation import N_, Sentence, gettext_for

EPS = 1e-5  # the step along a unit direction (float64 inputs)
# Below this, the backward is the gradient of the forward. The error is
# |num - sum(g * u)| / max(1, |g|), computed without overflow: rounding (1e-16 |L| / EPS,
# about 1e-10 here) plus truncation (EPS^2 f''', about 1e-10); a wrong gradient is off by |error| |z| / sqrt(n)
# with z a standard normal: 0.025 or more for lab05's known mistakes over 31 seeds
# (tests/test_lab05.py measures both sides).
CONSISTENT_BELOW = 1e-6
DEFAULT_DIRECTIONS = 3

ValuesJudge = Callable[..., TestResult]


@dataclass(frozen=True)
class GradientOptions:
    module: str
    forward: str
    forward_outputs: int
    output: int
    dout: str | None  # None: the forward's output is a loss, L = sum(output)
    wrt: tuple[str, ...]
    gradients: tuple[int, ...]
    forward_args: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)
    directions: int = DEFAULT_DIRECTIONS


def gradient_options(lab: LabSpec, case: Case) -> GradientOptions:
    """The test's [tests.gradient] table, checked against the test's arguments."""
    assert case.test is not None
    table, where = case.test.options, f"{lab.id}: test {case.test.name}"
    function = case.function
    dout = str(table.get("dout", "dout"))
    positional = [n for n in function.positional if n in case.args and n != dout]
    extra = dict(table.get("extra", {}))
    options = GradientOptions(
        module=str(table.get("module", function.module)),
        forward=str(table.get("forward", "")),
        forward_outputs=int(table.get("forward_outputs", 1)),
        output=int(table.get("output", 0)),
        dout=dout if dout in case.args else None,
        wrt=tuple(table.get("wrt", [])),
        gradients=tuple(table.get("gradients", range(len(function.outputs)))),
        forward_args=tuple(table.get("forward_args", positional)),
        extra=extra,
        directions=int(table.get("directions", DEFAULT_DIRECTIONS)),
    )
    if not options.forward or not 0 <= options.output < options.forward_outputs:
        raise LabSpecError(f"{where}: gradient needs forward, and output < forward_outputs")
    if len(options.wrt) != len(options.gradients) or not options.wrt:
        raise LabSpecError(f"{where}: gradient.wrt must name one input per gradient")
    if any(not 0 <= i < len(function.outputs) for i in options.gradients):
        raise LabSpecError(f"{where}: gradient.gradients must be outputs of {function.name}")
    if any(not _names_an_argument(n, case.args, extra) for n in options.wrt + options.forward_args):
        raise LabSpecError(f"{where}: gradient.wrt and forward_args must name arguments")
    if options.directions < 1:
        raise LabSpecError(f"{where}: gradient.directions must be at least 1")
    return options


def _names_an_argument(name: str, args: dict[str, Any], extra: dict[str, Any]) -> bool:
    """"q" (an argument, or an extra one), or "params.w_q" (an entry of a dict argument)."""
    head, _, key = name.partition(".")
    if not key:
        return head in args or head in extra
    return isinstance(args.get(head), dict) and key in args[head]


# ------------------------------------------------------------ inputs and calls


def _digest(case: Case) -> int:
    """A seed from the test's inputs: the same inputs (a regrade) give the same directions."""
    h = hashlib.sha256(case.key.encode("utf-8"))

    def feed(value: Any) -> None:
        if isinstance(value, dict):
            for k in sorted(value):
                h.update(k.encode("utf-8"))
                feed(value[k])
        elif isinstance(value, np.ndarray):
            h.update(str(value.shape).encode() + np.ascontiguousarray(value).tobytes())
        else:
            h.update(repr(value).encode("utf-8"))

    feed(case.args)
    return int.from_bytes(h.digest()[:8], "little")


def _get(values: dict[str, Any], name: str) -> Any:
    head, _, key = name.partition(".")
    return values[head][key] if key else values[head]


def _with(values: dict[str, Any], name: str, new: np.ndarray) -> dict[str, Any]:
    head, _, key = name.partition(".")
    return {**values, head: {**values[head], key: new} if key else new}


@dataclass(frozen=True)
class Point:
    """One evaluation of the forward: the call's key, and where (input, direction, sign)."""

    key: str
    wrt: str | None = None  # None: at the test's own inputs
    direction: int = 0
    sign: int = 0


def plan(lab: LabSpec, case: Case) -> tuple[GradientOptions, dict[str, Any], dict, list[Point]]:
    """The options, the forward's inputs (the test's and the extra ones, float64), the unit
    directions of each input, and the points the forward is evaluated at."""
    options = gradient_options(lab, case)
    seed = _digest(case)
    values = {**as_float64(case.args), **build_args(options.extra, seed % 2**31, case.key)}
    rng = np.random.default_rng(seed)
    directions: dict[str, list[np.ndarray]] = {}
    points = [Point(f"{case.key}/gradient/at")]
    for name in options.wrt:
        shape = np.shape(_get(values, name))
        directions[name] = []
        for j in range(options.directions):
            u = rng.normal(size=shape)
            directions[name].append(u / max(np.linalg.norm(u), 1e-300))
            for sign in (1, -1):
                points.append(Point(f"{case.key}/gradient/{name}/{j}/{sign:+d}", name, j, sign))
    return options, values, directions, points


def _forward_call(case: Case, options: GradientOptions, values: dict[str, Any], key: str) -> Call:
    keywords = {
        n: values[n] for n in case.args
        if n not in case.function.positional and n not in options.forward_args
    }
    return Call(
        key=key,
        module=options.module,
        function=options.forward,
        args=[values[n] for n in options.forward_args],
        kwargs=keywords,
        n_outputs=options.forward_outputs,
        probe_of=case.key,  # quiet, after the tests, never for a forward that hung
    )


def gradient_calls(lab: LabSpec, case: Case, probe_of: str | None = None) -> list[Call]:
    """The forward's calls a gradient test needs (none for any other test)."""
    if case.test is None or case.test.kind != "gradient":
        return []
    options, values, directions, points = plan(lab, case)
    calls = []
    for point in points:
        at = values
        if point.wrt is not None:
            x = _get(values, point.wrt)
            at = _with(values, point.wrt, x + point.sign * EPS * directions[point.wrt][point.direction])
        call = _forward_call(case, options, at, point.key)
        calls.append(replace(call, probe_of=probe_of or case.key))
    return calls


# ------------------------------------------------------------ the measurement


@dataclass
class Measurement:
    """The check's result: per input, the largest relative error over its directions
    (inf: the gradient has the wrong shape or is not finite); or why it could not run."""

    errors: dict[str, float] = field(default_factory=dict)
    problem: str | Sentence = ""  # a Sentence of the grader's, or the student's own words
    forward_output: np.ndarray | None = None  # the forward's output at the test's inputs

    @property
    def consistent(self) -> bool:
        return not self.problem and all(e <= CONSISTENT_BELOW for e in self.errors.values())

    @property
    def largest(self) -> float:
        return max(self.errors.values(), default=0.0)

    def off(self) -> list[str]:
        return [n for n, e in self.errors.items() if not e <= CONSISTENT_BELOW]


def _loss(outcome: CallOutcome | None, options: GradientOptions, dout: np.ndarray | None):
    """L at one point, or the reason there is none (a Sentence of the grader's, or the
    student's process's own words)."""
    if outcome is None:
        return None, Sentence(N_("it was not run"))
    if outcome.status != "ok":
        return None, outcome.sentence or outcome.message or outcome.status
    if len(outcome.outputs) != options.forward_outputs:
        return None, Sentence(N_("it returned {n} arrays, not {expected}"),
                              {"n": len(outcome.outputs), "expected": options.forward_outputs})
    out = outcome.outputs[options.output]
    if out.dtype.kind not in "fiu" or (dout is not None and out.shape != dout.shape):
        return None, Sentence(N_("its output has shape {shape} and dtype {dtype}"),
                              {"shape": str(out.shape), "dtype": str(out.dtype)})
    with np.errstate(all="ignore"):
        loss = float(np.sum(out.astype(np.float64) * (1.0 if dout is None else dout)))
    if not np.isfinite(loss):
        return None, Sentence(N_("its output is not finite near the test's inputs"))
    return loss, ""


def measure(
    lab: LabSpec, case: Case, gradients: list[np.ndarray], outcomes: dict[str, CallOutcome]
) -> Measurement:
    """Compare the backward's `gradients` (its outputs) with centred differences of the
    forward's outputs in `outcomes`. Plain arrays only: nothing here runs student code."""
    options, values, directions, points = plan(lab, case)
    dout = values.get(options.dout) if options.dout else None
    losses: dict[tuple[str, int, int], float] = {}
    forward_output = None
    for point in points:
        outcome = outcomes.get(point.key)
        if point.wrt is None:
            if outcome is not None and outcome.status == "ok" and outcome.outputs:
                forward_output = outcome.outputs[min(options.output, len(outcome.outputs) - 1)]
            continue
        loss, problem = _loss(outcome, options, dout)
        if loss is None:
            return Measurement(problem=problem)
        losses[(point.wrt, point.direction, point.sign)] = loss
    measurement = Measurement(forward_output=forward_output)
    for name, index in zip(options.wrt, options.gradients):
        g = gradients[index]
        x = _get(values, name)
        if g.shape != np.shape(x) or g.dtype.kind not in "fiu" or not np.all(np.isfinite(g)):
            measurement.errors[name] = np.inf
            continue
        scale = max(1.0, _norm(g.astype(np.float64)))
        worst = 0.0
        with np.errstate(all="ignore"):
            scaled = g.astype(np.float64) / scale  # |scaled| <= 1: its sums cannot overflow
            for j, u in enumerate(directions[name]):
                numerical = (losses[(name, j, 1)] - losses[(name, j, -1)]) / (2 * EPS)
                error = abs(numerical / scale - float(np.sum(scaled * u)))
                worst = error if not error <= worst else worst  # NaN stays NaN
        # an error that is not a finite number (it never should be now) is no agreement
        measurement.errors[name] = worst if np.isfinite(worst) else np.inf
    return measurement


def _norm(g: np.ndarray) -> float:
    """The Euclidean norm of finite `g`, without overflow: |g| of 1e200s is about 1e201,
    not inf (max(1, inf) made every error 0, a perfect match)."""
    largest = float(np.max(np.abs(g), initial=0.0))
    if largest == 0.0:
        return 0.0
    return largest * float(np.linalg.norm(g / largest))


# ------------------------------------------------------------ the verdict

def judge_gradient(
    lab: LabSpec,
    case: Case,
    outcome: CallOutcome,
    expectation: Expectation,
    lang: str,
    probes: Any,
    judge_values: ValuesJudge,
) -> TestResult:
    """The values verdict (points, diagnosis), then what the gradient check adds to it.
    `probes` (grading.ProbeRun) holds every call's outcome, the forward's among them."""
    result = judge_values(lab, case, outcome, expectation, lang, probes)
    if outcome.status != "ok" or len(outcome.outputs) != len(case.function.outputs):
        return result  # the backward itself failed: the values message says how
    options = gradient_options(lab, case)
    outcomes = probes.outcomes if probes is not None else {}
    found = measure(lab, case, outcome.outputs, outcomes)
    forward = options.forward
    _ = gettext_for(lang)
    if found.problem:
        problem = problem_text(found.problem, _)[:300]
        if result.status == PASSED:
            result.message = _(
                "right: it is the reference's gradient (the grader's check against your "
                "{forward} could not run: {problem})"
            ).format(forward=forward, problem=problem)
        else:
            result.message = _(
                "{message} (the grader's gradient check of your {forward} could not run: "
                "{problem})"
            ).format(message=result.message, forward=forward, problem=problem)
        return result
    names = ", ".join(_gradient_name(case, options, n) for n in found.off())
    n = options.directions * len(options.wrt)
    if result.status == PASSED:
        if found.consistent:
            result.message = _(
                "right, and it is the gradient of your {forward}: centred differences along "
                "{n} random directions agree within {error:.0e}"
            ).format(forward=forward, n=n, error=found.largest)
        else:
            result.message = _(
                "right: it is the reference's gradient. But it does not match the numerical "
                "gradient of your own {forward} ({names} off by up to {error:.2g}): your "
                "{forward} differs from the reference (see its tests)"
            ).format(forward=forward, names=names, error=found.largest)
        return result
    if found.consistent:
        difference = _forward_difference(lab, case, options, found, probes)
        by = "" if difference is None else _(
            ", by up to {difference:.2g} on these inputs").format(difference=difference)
        result.message = _(
            "your backward matches your own {forward}'s numerical gradient (within "
            "{error:.0e} along {n} random directions), but your {forward} differs from the "
            "reference{by}: your gradients are right for the function you wrote, not for the "
            "one asked. Make {forward} match the reference (see its tests); then check the "
            "backward again"
        ).format(forward=forward, n=n, by=by, error=found.largest)
        result.diagnosis = result.hint = result.diagnosed_by = None  # the mistake is the forward's
        return result
    if np.isfinite(found.largest):
        result.message = _(
            "your backward does not match the gradient of your own {forward}: {names} off by "
            "up to {error:.2g} along random directions (centred differences of your "
            "{forward}). {values}"
        ).format(forward=forward, names=names, error=found.largest, values=result.message)
        return result
    names = ", ".join(_gradient_name(case, options, n) for n, e in found.errors.items()
                      if not np.isfinite(e))
    result.message = _(
        "your backward does not match the gradient of your own {forward}: {names} cannot "
        "be compared with it (wrong shape, or not finite). {values}"
    ).format(forward=forward, names=names, values=result.message)
    return result


def problem_text(problem: str | Sentence, _: Callable[[str], str]) -> str:
    """Why a measurement could not run, translated with `_` (the student's own words as
    they are)."""
    return problem.translated_with(_) if isinstance(problem, Sentence) else problem


def _gradient_name(case: Case, options: GradientOptions, wrt: str) -> str:
    return case.function.outputs[options.gradients[options.wrt.index(wrt)]]


def _forward_difference(
    lab: LabSpec, case: Case, options: GradientOptions, found: Measurement, probes: Any
) -> float | None:
    """The largest difference between the student's forward output at the test's inputs and
    the reference's, when the reference is here and the forward is one of the lab's functions."""
    spec = lab.functions.get(options.forward)
    reference = getattr(probes, "reference_variants", None)
    if spec is None or reference is None or found.forward_output is None:
        return None
    if spec.positional[: len(options.forward_args)] != options.forward_args:
        return None
    _, values, _, _ = plan(lab, case)
    args = {n: values[n] for n in options.forward_args}
    args |= {n: values[n] for n in case.args if n not in case.function.positional}
    try:
        want = reference(Case(f"{case.key}/gradient/reference", spec, args))[0][options.output]
    except Exception:  # noqa: BLE001 - no number then, the message stands without it
        return None
    got = found.forward_output
    if got.shape != want.shape or got.dtype.kind not in "fiu":
        return None
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(got.astype(np.float64) - want), initial=0.0))
