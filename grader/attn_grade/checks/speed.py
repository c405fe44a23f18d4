"""Speed tests: is the student's efficient function really faster than their slow one?

A lab declares one as a test of kind "speed" (labspec.TEST_KINDS):

    [[tests]]
    name = "speed_matrix_vs_loops"
    kind = "speed"
    function = "self_attention"              # the fast one; its arguments as usual
    [tests.speed]
    slower = "self_attention_loops"          # same arguments, same outputs
    per_item = ["x"]                         # it takes one item of x at a time (axis 0)
    min_ratio = 10.0                         # pass when median(slower) / median(function) >= this
    repeats = 7                              # interleaved timed runs of each (3 at least:
                                             # fewer once half the lab's time_limit is spent), after
    warmup = 1                               # untimed runs of each
    hint = "..."                             # shown when the ratio is too small
    hint_pt = "..."                          # the same in Portuguese (--lang pt)

Both run in the same student process, on the same inputs, under its limits
(sandbox/bootstrap.py `_serve_timing`), which sends back both results and the
(2, repeats) times as plain arrays. Here, after the process is gone, both results
are judged like any value test (a fast wrong answer earns nothing), then the
ratio of the medians. The grader also measured the call's wall time itself: in-process
times that do not fit in it (a patched clock) fail the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from attn_grade.cases import Case
from attn_grade.errors import LabSpecError
from attn_grade.expected import Expectation
from attn_grade.labspec import LabSpec
from attn_grade.result import FAILED, PASSED, TestResult
from attn_grade.runner import Call, CallOutcome
from attn_grade.translation import N_, Sentence, gettext_for

# in-process times must fit in the wall time the grader measured for the call:
# at most all of it (plus slack for when the grader read the events late), and at least
# this share of it (the rest is the warm-up, the inputs and the results' transfer)
WALL_SLACK_SECONDS = 0.05
MIN_SHARE_OF_WALL = 0.3

ValuesJudge = Callable[[LabSpec, Case, CallOutcome, Expectation, str], TestResult]


@dataclass(frozen=True)
class SpeedOptions:
    slower: str
    per_item: tuple[str, ...]
    min_ratio: float
    repeats: int
    warmup: int
    hint: str = ""
    hint_pt: str = ""


def speed_options(lab: LabSpec, case: Case) -> SpeedOptions:
    """The test's [tests.speed] table, checked against the lab's functions."""
    assert case.test is not None
    table, where = case.test.options, f"{lab.id}: test {case.test.name}"
    slower = table.get("slower")
    if slower not in lab.functions:
        raise LabSpecError(f"{where}: speed.slower must name a function of the lab")
    if lab.functions[slower].positional != case.function.positional:
        raise LabSpecError(f"{where}: {slower} must take the same arguments as {case.function.name}")
    per_item = tuple(table.get("per_item", []))
    if any(n not in case.function.positional or n not in case.args for n in per_item):
        raise LabSpecError(f"{where}: speed.per_item must name positional arguments of the test")
    options = SpeedOptions(
        slower=slower,
        per_item=per_item,
        min_ratio=float(table.get("min_ratio", 10.0)),
        repeats=int(table.get("repeats", 7)),
        warmup=int(table.get("warmup", 1)),
        hint=str(table.get("hint", "")),
        hint_pt=str(table.get("hint_pt", table.get("hint", ""))),
    )
    if options.repeats < 3 or options.warmup < 0 or options.min_ratio <= 0:
        raise LabSpecError(f"{where}: speed needs repeats >= 3, warmup >= 0, min_ratio > 0")
    return options


def speed_call(lab: LabSpec, case: Case) -> Call:
    """The call that times both functions in the student's process."""
    options = speed_options(lab, case)
    slower = lab.functions[options.slower]
    names = [n for n in case.function.positional if n in case.args]
    n_outputs = len(case.function.outputs) + len(slower.outputs) + 1  # + the times
    timing = {
        "module": slower.module,
        "function": slower.name,
        "n_outputs": len(slower.outputs),
        "per_item": [names.index(n) for n in options.per_item],
        "repeats": options.repeats,
        "warmup": options.warmup,
        # very slow code stops after 3 repeats once half the time limit is spent
        "budget": lab.time_limit / 2,
    }
    return replace(
        case.call(), n_outputs=n_outputs, return_positional=(), return_keyword=(), timing=timing
    )


def judge_speed(
    lab: LabSpec,
    case: Case,
    outcome: CallOutcome,
    expectation: Expectation,
    lang: str,
    judge_values: ValuesJudge,
) -> TestResult:
    """Both functions right on the test's inputs, then the ratio of their median times."""
    options = speed_options(lab, case)
    fast, slow = case.function, lab.functions[options.slower]
    n_fast, n_slow = len(fast.outputs), len(slow.outputs)
    _ = gettext_for(lang)
    if outcome.status == "bad-return":
        returned = (outcome.sentence.params.get("returned") if outcome.sentence is not None
                    else None) or outcome.message.split(";")[0]
        sentence = Sentence(
            N_("{fast} and {slow} must each return ({outputs}): {returned}"),
            {"fast": fast.name, "slow": slow.name, "outputs": ", ".join(fast.outputs),
             "returned": returned},
        )
        outcome = replace(outcome, message=sentence.english(), sentence=sentence)
    if outcome.status != "ok" or len(outcome.outputs) != n_fast + n_slow + 1:
        return judge_values(lab, case, outcome, expectation, lang)
    for function, outputs in ((fast, outcome.outputs[:n_fast]),
                              (slow, outcome.outputs[n_fast:n_fast + n_slow])):
        one = replace(outcome, outputs=list(outputs), returned_inputs=[])
        result = judge_values(lab, replace(case, function=function), one, expectation, lang)
        if result.status != PASSED:
            result.function = fast.name
            result.message = _("{function} is wrong on the speed test's inputs: {problem}").format(
                function=function.name, problem=result.message
            )
            return result
    result = judge_values(lab, case, replace(outcome, outputs=outcome.outputs[:n_fast]),
                          expectation, lang)  # a passed result to fill in
    hint = options.hint_pt if lang == "pt" else options.hint
    batch = _batch(case, options, _)
    return _judge_times(result, outcome, options, fast.name, slow.name, batch, hint, _)


def _batch(case: Case, options: SpeedOptions, _: Callable[[str], str] = str) -> str:
    if not options.per_item:
        return _("the same inputs")  # else the slow one ran item by item: the batch's time
    n = len(case.args[options.per_item[0]])
    return _("a batch of {n}").format(n=n)


def _judge_times(
    result: TestResult, outcome: CallOutcome, options: SpeedOptions, fast: str, slow: str,
    batch: str, hint: str, _: Callable[[str], str] = str,
) -> TestResult:
    times = outcome.outputs[-1]
    if (times.ndim != 2 or times.shape[0] != 2 or not 3 <= times.shape[1] <= options.repeats
            or times.dtype.kind != "f" or not np.all(np.isfinite(times)) or np.any(times <= 0)):
        return _failed(result, _(
            "the times sent back are not 3 to {repeats} positive durations of each function "
            "(got shape {shape})"
        ).format(repeats=options.repeats, shape=times.shape))
    claimed = float(times.sum())
    wall = outcome.wall_seconds
    if wall > 0 and not MIN_SHARE_OF_WALL * wall <= claimed <= wall + WALL_SLACK_SECONDS:
        return _failed(result, _(
            "the times measured in your process ({claimed:.3f} s in all) do not fit in the "
            "{wall:.3f} s the grader measured: was the clock patched?"
        ).format(claimed=claimed, wall=wall))
    fast_median, slow_median = (float(np.median(row)) for row in times)
    ratio = slow_median / fast_median
    table = _(
        "{slow} {slow_time}, {fast} {fast_time} for {batch} (median of {n}): {ratio:.1f}x faster"
    ).format(slow=slow, slow_time=_ms(slow_median), fast=fast, fast_time=_ms(fast_median),
             batch=batch, n=times.shape[1], ratio=ratio)
    if ratio < options.min_ratio:
        needs = _("{table}, needs {ratio:g}x.").format(table=table, ratio=options.min_ratio)
        return _failed(result, f"{needs} {hint}".rstrip())
    result.message = _("{table} (needs {ratio:g}x)").format(table=table, ratio=options.min_ratio)
    return result


def _failed(result: TestResult, message: str) -> TestResult:
    result.status, result.points, result.message = FAILED, 0.0, message
    return result


def _ms(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1e3:.3g} ms"
