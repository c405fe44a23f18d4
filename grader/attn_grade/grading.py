"""The grading engine: lab spec -> student process -> comparison -> diagnosis -> LabResult.

It never prints. Renderers in report/ turn the LabResult into text, JSON or PNG.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from attn_grade import deliverables as dl
from attn_grade.cases import EXAMPLE_KEY, Case, test_case
from attn_grade.checks.gradient import gradient_calls, judge_gradient
from attn_grade.checks.speed import judge_speed, speed_call
from attn_grade.checks.training import judge_training, training_call, training_calls
from attn_grade.compare import compare
from attn_grade.diagnose import MODIFIES_INPUT, diagnose, modified_inputs
from attn_grade.errors import LabSpecError, ReferenceMissingError, UsageError
from attn_grade.expected import Expectation, expect
from attn_grade.frozen import load_public_cases, load_public_expectations, public_cases
from attn_grade.labspec import LabSpec, MistakeSpec, load_lab
from attn_grade.policy import apply_policy, forbidden_imports
from attn_grade.probes import ProbeRun, probe_calls
from attn_grade.reference import find_solutions, load_reference
from attn_grade.result import (
    ERROR,
    FAILED,
    NOT_RUN,
    PASSED,
    TIMEOUT,
    ExampleWeights,
    LabResult,
    TestResult,
)
from attn_grade.runner import Call, CallOutcome, Limits, run_calls
from attn_grade.sandbox.launch import keep_private
from attn_grade.shape_errors import explain as explain_shape_error
from attn_grade.submission import open_submission
from attn_grade.translation import N_, Sentence, gettext_for, where_text


def grade(
    lab_id: str,
    submission: Path,
    *,
    solutions: Path | None = None,
    hidden: bool = True,
    seed: int | None = None,
    lang: str = "en",
    limits: Limits | None = None,
    only: Sequence[str] | None = None,
    deliverables: bool = True,
    shown: str | None = None,
) -> LabResult:
    """Grade the student folder `submission` on `lab_id`; `shown`: how messages name it
    (default: as given; a batch grading a private copy names the student's entry).

    Hidden tests run when the reference solutions are found (see
    reference.find_solutions) and `hidden` is true, on fresh inputs drawn from
    `seed` (random when None; the result records it for a regrade). `only` limits
    grading to the named tests (no example, deliverables or checklist), as a
    notebook's test cell does; `deliverables=False` skips the deliverables.
    """
    lab = load_lab(lab_id)
    if only is not None:
        unknown = sorted(set(only) - {t.name for t in lab.tests})
        if unknown:
            raise UsageError(Sentence(N_("{lab} has no test named {names}"),
                                      {"lab": lab.id, "names": ", ".join(unknown)}))
    with open_submission(Path(submission), lab) as folder:
        return _grade_folder(
            lab, folder, str(submission) if shown is None else shown, solutions, hidden, seed,
            lang, limits, only, deliverables,
        )


def _grade_folder(
    lab: LabSpec,
    submission: Path,
    shown: str,
    solutions: Path | None,
    hidden: bool,
    seed: int | None,
    lang: str,
    limits: Limits | None,
    only: Sequence[str] | None,
    with_deliverables: bool,
) -> LabResult:
    limits = limits or Limits(time_limit=lab.time_limit)
    if limits.time_budget is None and lab.time_budget:
        limits = dataclasses.replace(limits, time_budget=lab.time_budget)  # 0 stays: no budget
    reference_dir = find_solutions(lab, solutions) if hidden else None
    if reference_dir is not None:
        # as root the student runs under a uid of its own: it must not enter the reference
        keep_private(reference_dir)
    frozen_cases = None
    if reference_dir is None:
        # Without the reference (a student's check), public tests use the frozen inputs and
        # expectations of public.npz, which the student can read anyway.
        frozen_cases = load_public_cases(lab)
        if frozen_cases is None:
            raise LabSpecError(
                f"{lab.id} has no frozen public tests: run `attn-grade freeze {lab.id}`."
            )
        cases = list(frozen_cases)
    else:
        # With it (batch, Gradescope, nbgrader, an instructor's check), every test runs on
        # fresh inputs drawn from `seed`, public ones included: public.npz is no answer key.
        seed = secrets.randbelow(2**31) if seed is None else seed
        cases = [test_case(lab, t, seed) for t in lab.tests_with("public")]
        cases += [c for c in public_cases(lab) if c.test is None]  # the example: fixed, unscored
        cases += [test_case(lab, t, seed) for t in lab.tests_with("hidden")]
    if only is not None:
        cases = [c for c in cases if c.test is not None and c.test.name in only]
        missing = sorted(set(only) - {c.key for c in cases})
        if missing:
            raise ReferenceMissingError(
                f"{', '.join(missing)}: hidden tests need the reference solutions (--solutions)"
            )
        with_deliverables = False
    specs = lab.deliverables if with_deliverables else ()

    scripts = dl.script_deliverables(specs)
    with ThreadPoolExecutor(max_workers=max(1, len(scripts))) as pool:
        script_runs = [pool.submit(dl.run_script, d, submission, limits, lab) for d in scripts]
        probes = {c.key: probe_calls(lab, c) for c in cases}
        calls = [_call(lab, c) for c in cases]
        calls += [g for c in cases for g in gradient_calls(lab, c)]  # a gradient test's forward
        calls += [t for c in cases for t in training_calls(lab, c)]  # a training test's runs
        calls += [p.call(key) for key, ps in probes.items() for p in ps]
        record = run_calls(submission, calls, limits)
        runs = {f.result().spec.id: f.result() for f in script_runs}
    own_paths([*record.outcomes.values(), *(r.outcome for r in runs.values())], shown, submission)

    # Every student process is gone: only now does any expected value exist.
    reference = load_reference(lab, reference_dir) if reference_dir else None
    expectations = {}
    if frozen_cases is not None:
        expectations = load_public_expectations(lab, frozen_cases)
    for case in cases:
        if case.key not in expectations:
            assert reference is not None
            expectations[case.key] = expect(lab, reference, case)

    probe_run = ProbeRun(
        record.outcomes, (lambda c: _reference_and_variants(lab, reference, c)) if reference else None
    )
    tests = [
        _judge_kind(
            lab, case, record.outcomes[case.key], expectations[case.key], lang,
            probe_run.for_case(probes[case.key]),
        )
        for case in cases
        if case.test is not None
    ]
    violations = forbidden_imports(submission, lab.forbidden_imports)  # static, on the source
    apply_policy(tests, violations, {f.name: f.module for f in lab.functions.values()}, lang)
    example = _example(lab, cases, record.outcomes, expectations, lang)
    if example is not None and lab.example is not None:
        example.not_shown = not_in_picture(
            tests, lang, lab.example.function, _picture_differs(example))
    delivered = dl.check_deliverables(specs, submission, runs, example, lang, tests)
    output = _own_path_text(
        record.output + "".join(r.output for r in runs.values()), shown, submission
    )
    checklist = dl.filled_handout(submission, "CHECKLIST.md", lang)
    return LabResult(
        lab=lab.id,
        title=lab.titled(lang),
        submission=shown,
        tests=tests,
        deliverables=delivered,
        checklist=dl.read_checklist(checklist, tests, delivered),
        checklist_file=checklist.name,
        example=example,
        hidden_tests_ran=reference is not None,
        seed=seed if reference is not None else None,
        student_output=output,
        student_output_truncated=record.output_truncated,
        lang=lang,
    )


def _call(lab: LabSpec, case: Case) -> Call:
    """The call a case needs in the student's process, by the kind of its test."""
    if case.test is not None and case.test.kind == "speed":
        return speed_call(lab, case)
    if case.test is not None and case.test.kind == "training":
        return training_call(lab, case)
    return case.call()


def _judge_kind(
    lab: LabSpec,
    case: Case,
    outcome: CallOutcome,
    expectation: Expectation,
    lang: str,
    probes: ProbeRun | None = None,
) -> TestResult:
    """Dispatch on the test's kind (labspec.TEST_KINDS)."""
    assert case.test is not None
    if case.test.kind == "speed":
        return judge_speed(lab, case, outcome, expectation, lang, judge)
    if case.test.kind == "gradient":
        return judge_gradient(lab, case, outcome, expectation, lang, probes, judge)
    if case.test.kind == "training":
        return judge_training(lab, case, outcome, expectation, lang, judge,
                              probes.outcomes if probes else None)
    return judge(lab, case, outcome, expectation, lang, probes)


def judge(
    lab: LabSpec,
    case: Case,
    outcome: CallOutcome,
    expectation: Expectation,
    lang: str = "en",
    probes: ProbeRun | None = None,
) -> TestResult:
    """Turn one call's outcome into a test result. `probes` (the outcomes of this test's
    probe calls) may name the mistake of a failed test; they never change points."""
    test, function = case.test, case.function
    assert test is not None
    _ = gettext_for(lang)
    result = TestResult(
        name=test.name,
        function=function.name,
        visibility=test.visibility,
        status=FAILED,
        points=0.0,
        max_points=test.points,
        description=test.described(lang),
        where=outcome.where,
        inputs=input_shapes(case.args),
    )
    if outcome.status == "skipped":
        result.status, result.message = NOT_RUN, outcome_text(outcome, lang)
        return result
    if outcome.status == "ok" and expectation.outputs is None:
        result.message = _("expected {function} to raise {exception}, but it returned").format(
            function=function.name, exception=test.raises
        )
        return result
    if outcome.status != "ok":
        if test.raises and outcome.exception == test.raises:
            return _passed(result)
        result.status, result.message = _describe_failure(
            outcome, function.signature_in(lang), test.raises, lang
        )
        if outcome.status in ("not-implemented", "missing", "timeout", "crashed"):
            result.inputs = ""  # nothing about shapes: the function never got that far
        if outcome.status == "error" and probes is not None:
            found = probes.diagnose(lab, case, expectation.outputs, raised=True)
            return _with_diagnosis(result, found, lang, "probe")
        return result
    if len(expectation.outputs) != len(function.outputs):
        # never a pass by default: a zip over missing expectations would compare nothing
        raise LabSpecError(
            f"{lab.id}: {test.name} has {len(expectation.outputs)} expected outputs, not "
            f"{len(function.outputs)}: run `attn-grade freeze {lab.id}`"
        )
    if len(outcome.outputs) != len(function.outputs):
        result.status, result.message = ERROR, _("the student process returned too few arrays")
        return result
    for got, want, name, kind in zip(
        outcome.outputs, expectation.outputs, function.outputs, function.output_kinds
    ):
        comparison = compare(name, got, want, kind, test.rtol, test.atol, lang)
        if not comparison.ok:
            result.message = comparison.message
            found = probes.diagnose(lab, case, expectation.outputs, raised=False) if probes else None
            if found is not None:  # the function itself was asked: the surer answer
                return _with_diagnosis(result, found, lang, "probe")
            mistake = diagnose(
                outcome.outputs, expectation.variants, function.output_kinds, test.rtol, test.atol
            )
            return _with_diagnosis(result, mistake, lang, "match")
    watched = case.watched_inputs()
    if watched:
        before = [case.args[n] for n in watched]
        changed = modified_inputs(before, outcome.returned_inputs, watched)
        if changed:
            result.message = _("the result is right, but {names} was modified in place").format(
                names=", ".join(changed)
            )
            return _with_diagnosis(result, MODIFIES_INPUT, lang, "match")
    return _passed(result)


def _passed(result: TestResult) -> TestResult:
    result.status, result.points = PASSED, result.max_points
    return result


def _with_diagnosis(
    result: TestResult, mistake: MistakeSpec | None, lang: str, how: str
) -> TestResult:
    if mistake is not None:
        result.diagnosis = mistake.id
        result.hint = mistake.hint_pt if lang == "pt" else mistake.hint
        result.diagnosed_by = how
    return result


def not_in_picture(
    tests: list[TestResult], lang: str = "en", function: str | None = None,
    differs: bool = False,
) -> str:
    """The example's heatmap shows one call of `function` on one input: name the failing
    tests it cannot show (another function's, or a case the example does not have, like a
    fully masked row). When the picture `differs` from the reference's, it shows what is
    wrong with `function`: its own failing tests are not named."""
    failing: dict[str, list[str]] = {}
    for t in tests:
        if t.status != PASSED and not (differs and t.function == function):
            failing.setdefault(t.function, []).append(t.name)
    if not failing:
        return ""
    parts = [f"{function}: {', '.join(names)}" for function, names in failing.items()]
    _ = gettext_for(lang)
    return _("Failing tests this picture does not show: {tests}").format(tests="; ".join(parts))


def _picture_differs(example: ExampleWeights) -> bool:
    """Whether the student's weights on the example visibly differ from the reference's
    (the tolerance the kit uses for weights: rtol 1e-3, atol 1e-4)."""
    student, reference = example.student, example.reference
    if student is None or reference is None or student.shape != reference.shape:
        return False  # no picture of the student's weights: nothing is shown
    with np.errstate(all="ignore"):
        return not np.allclose(student, reference, rtol=1e-3, atol=1e-4)


def input_shapes(args: dict) -> str:
    """'q (2, 5, 6), k (2, 7, 6), num_heads=3': what the test passed, by shape."""
    parts = []
    for name, value in args.items():
        if isinstance(value, np.ndarray):
            parts.append(f"{name} {tuple(value.shape)}")
        elif isinstance(value, dict):
            inner = ", ".join(
                f"{k} {tuple(v.shape)}" for k, v in value.items() if isinstance(v, np.ndarray)
            )
            parts.append(f"{name} {{{inner}}}")
        else:
            parts.append(f"{name}={value!r}")
    return ", ".join(parts)


def _reference_and_variants(lab: LabSpec, reference, case: Case):
    expectation = expect(lab, reference, case)
    return expectation.outputs, expectation.variants


# the copy of the submission a run works on, <tmp>/attn-grade-run-<pid>-<random>/submission/,
# and the folder its scripts write into, .../out/ (their files come back next to the code):
# tempdirs.private_tempdir("run") and runner._Session. Found from the literal name, then
# back to the path's start: a regex starting at every "/" took quadratic time on output.
_SANDBOX_FOLDER = re.compile(r"attn-grade-run-[^/\s'\"]{1,80}/(?:submission|out)/")
_PATH_ENDS = frozenset(" \t\n\r\f\v'\"")


def _without_sandbox_folders(text: str, prefix: str) -> str:
    kept, last, floor = [], 0, 0
    for found in _SANDBOX_FOLDER.finditer(text):
        start = found.start()
        while start > floor and text[start - 1] not in _PATH_ENDS:  # each character once
            start -= 1
        floor = found.end()
        if text[start : start + 1] != "/":
            continue  # not an absolute path: not the sandbox's
        kept += [text[last:start], prefix]
        last = found.end()
    return "".join(kept) + text[last:]


def _own_path_text(text: str, shown: str, submission: Path) -> str:
    """Paths of the sandbox's copy of the submission (and of the folder its scripts write
    into), written as the student's own."""
    prefix = f"{shown.rstrip('/')}/" if Path(shown).is_dir() else ""
    text = _without_sandbox_folders(text, prefix)
    return text.replace(f"{submission}/", prefix) if str(submission) != shown else text


def own_paths(outcomes, shown: str, submission: Path) -> None:
    """Rewrite sandbox paths in the messages of `outcomes` (they quote exceptions)."""
    for outcome in outcomes:
        outcome.message = _own_path_text(outcome.message, shown, submission)
        if outcome.sentence is not None:
            outcome.sentence = outcome.sentence.with_text(
                lambda text: _own_path_text(text, shown, submission)
            )


def outcome_text(outcome: CallOutcome, lang: str) -> str:
    """An outcome's message in `lang`: the grader's own sentences are translated; what the
    student's process said (an exception's text) is shown as it is."""
    return outcome.sentence.translated(lang) if outcome.sentence is not None else outcome.message


_NO_FUNCTION = re.compile(r"(?P<module>\w+)\.py has no function (?P<function>\w+)")


def _describe_failure(
    outcome: CallOutcome, signature: str, raises: str | None, lang: str = "en"
) -> tuple[str, str]:
    _ = gettext_for(lang)
    where = f" ({where_text(outcome.where, _)})" if outcome.where else ""
    if outcome.status == "not-implemented":
        return ERROR, _("not implemented yet") + where
    if outcome.status == "missing":
        found = _NO_FUNCTION.fullmatch(outcome.message)  # the student process's words
        problem = outcome.message
        if found:
            problem = _("{module}.py has no function {function}").format(**found.groupdict())
        return ERROR, _("{problem}; expected {signature}").format(
            problem=problem, signature=signature
        )
    if outcome.status == "timeout":
        return TIMEOUT, outcome_text(outcome, lang)
    if outcome.status in ("bad-return", "bad-value"):
        return FAILED, _("{problem} (expected {signature} to return arrays)").format(
            problem=outcome_text(outcome, lang), signature=signature
        )
    message = f"{outcome_text(outcome, lang)}{where}"
    explained = explain_shape_error(outcome.message, lang)
    if explained:
        message += f"\n{explained}"
    if outcome.exception == "TypeError" and "argument" in outcome.message:
        message += _(". Check the signature: {signature}").format(signature=signature)
    if raises:
        message += _(". Expected {exception}").format(exception=raises)
    return ERROR, message


def _example(
    lab: LabSpec,
    cases: list[Case],
    outcomes: dict[str, CallOutcome],
    expectations: dict[str, Expectation],
    lang: str = "en",
) -> ExampleWeights | None:
    case = next((c for c in cases if c.key == EXAMPLE_KEY), None)
    if lab.example is None or case is None:
        return None
    index = case.function.outputs.index(lab.example.output)
    outcome = outcomes[EXAMPLE_KEY]
    expected = expectations[EXAMPLE_KEY].outputs
    reference_weights = expected[index] if expected else None
    student, message = None, ""
    if outcome.status == "ok" and len(outcome.outputs) > index:
        got = outcome.outputs[index]
        if reference_weights is not None and got.shape == reference_weights.shape:
            student = got.astype(float)
        else:
            _ = gettext_for(lang)
            message = _("your weights on the example have shape {shape}").format(shape=got.shape)
    else:
        message = outcome_text(outcome, lang) or outcome.status
    return ExampleWeights(list(lab.example.tokens), student, reference_weights, message)
