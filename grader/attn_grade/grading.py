"""The grading engine: lab spec -> student process -> comparison -> diagnosis -> LabResult.

It never prints. Renderers in report/ turn the LabResult into text, JSON or PNG.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from attn_grade import deliverables as dl
from attn_grade.cases import EXAMPLE_KEY, Case, test_case
from attn_grade.compare import compare
from attn_grade.diagnose import MODIFIES_INPUT, diagnose, modified_inputs
from attn_grade.errors import LabSpecError, ReferenceMissingError, UsageError
from attn_grade.expected import Expectation, expect
from attn_grade.frozen import load_public_cases, load_public_expectations, public_cases
from attn_grade.labspec import LabSpec, MistakeSpec, load_lab
from attn_grade.policy import apply_policy, forbidden_imports
from attn_grade.reference import find_solutions, load_reference
from attn_grade.result import (
    ERROR,
    FAILED,
    PASSED,
    TIMEOUT,
    ExampleWeights,
    LabResult,
    TestResult,
)
from attn_grade.runner import CallOutcome, Limits, run_calls
from attn_grade.sandbox.launch import keep_private
from attn_grade.submission import open_submission


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
) -> LabResult:
    """Grade the student folder `submission` on `lab_id`.

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
            raise UsageError(f"{lab.id} has no test named {', '.join(unknown)}")
    with open_submission(Path(submission), lab) as folder:
        return _grade_folder(
            lab, folder, str(submission), solutions, hidden, seed, lang, limits, only, deliverables
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
        script_runs = [pool.submit(dl.run_script, d, submission, limits) for d in scripts]
        record = run_calls(submission, [c.call() for c in cases], limits)
        runs = {f.result().spec.id: f.result() for f in script_runs}

    # Every student process is gone: only now does any expected value exist.
    reference = load_reference(lab, reference_dir) if reference_dir else None
    expectations = {}
    if frozen_cases is not None:
        expectations = load_public_expectations(lab, frozen_cases)
    for case in cases:
        if case.key not in expectations:
            assert reference is not None
            expectations[case.key] = expect(lab, reference, case)

    tests = [
        judge(lab, case, record.outcomes[case.key], expectations[case.key], lang)
        for case in cases
        if case.test is not None
    ]
    violations = forbidden_imports(submission, lab.forbidden_imports)  # static, on the source
    apply_policy(tests, violations, {f.name: f.module for f in lab.functions.values()})
    example = _example(lab, cases, record.outcomes, expectations)
    delivered = dl.check_deliverables(specs, submission, runs, example)
    output = record.output + "".join(r.output for r in runs.values())
    return LabResult(
        lab=lab.id,
        title=lab.title,
        submission=shown,
        tests=tests,
        deliverables=delivered,
        checklist=dl.read_checklist(submission / "CHECKLIST.md", tests, delivered),
        example=example,
        hidden_tests_ran=reference is not None,
        seed=seed if reference is not None else None,
        student_output=output,
        student_output_truncated=record.output_truncated,
    )


def judge(
    lab: LabSpec, case: Case, outcome: CallOutcome, expectation: Expectation, lang: str = "en"
) -> TestResult:
    """Turn one call's outcome into a test result."""
    test, function = case.test, case.function
    assert test is not None
    result = TestResult(
        name=test.name,
        function=function.name,
        visibility=test.visibility,
        status=FAILED,
        points=0.0,
        max_points=test.points,
        description=test.description,
        where=outcome.where,
    )
    if outcome.status == "ok" and expectation.outputs is None:
        result.message = f"expected {function.name} to raise {test.raises}, but it returned"
        return result
    if outcome.status != "ok":
        if test.raises and outcome.exception == test.raises:
            return _passed(result)
        result.status, result.message = _describe_failure(outcome, function.signature, test.raises)
        return result
    if len(expectation.outputs) != len(function.outputs):
        # never a pass by default: a zip over missing expectations would compare nothing
        raise LabSpecError(
            f"{lab.id}: {test.name} has {len(expectation.outputs)} expected outputs, not "
            f"{len(function.outputs)}: run `attn-grade freeze {lab.id}`"
        )
    if len(outcome.outputs) != len(function.outputs):
        result.status, result.message = ERROR, "the student process returned too few arrays"
        return result
    for got, want, name, kind in zip(
        outcome.outputs, expectation.outputs, function.outputs, function.output_kinds
    ):
        comparison = compare(name, got, want, kind, test.rtol, test.atol)
        if not comparison.ok:
            result.message = comparison.message
            mistake = diagnose(
                outcome.outputs, expectation.variants, function.output_kinds, test.rtol, test.atol
            )
            return _with_diagnosis(result, mistake, lang)
    watched = case.watched_inputs()
    if watched:
        before = [case.args[n] for n in watched]
        changed = modified_inputs(before, outcome.returned_inputs, watched)
        if changed:
            result.message = f"the result is right, but {', '.join(changed)} was modified in place"
            return _with_diagnosis(result, MODIFIES_INPUT, lang)
    return _passed(result)


def _passed(result: TestResult) -> TestResult:
    result.status, result.points = PASSED, result.max_points
    return result


def _with_diagnosis(result: TestResult, mistake: MistakeSpec | None, lang: str) -> TestResult:
    if mistake is not None:
        result.diagnosis = mistake.id
        result.hint = mistake.hint_pt if lang == "pt" else mistake.hint
    return result


def _describe_failure(outcome: CallOutcome, signature: str, raises: str | None) -> tuple[str, str]:
    where = f" ({outcome.where})" if outcome.where else ""
    if outcome.status == "not-implemented":
        return ERROR, f"not implemented yet{where}"
    if outcome.status == "missing":
        return ERROR, f"{outcome.message}; expected {signature}"
    if outcome.status == "timeout":
        return TIMEOUT, outcome.message
    if outcome.status in ("bad-return", "bad-value"):
        return FAILED, f"{outcome.message} (expected {signature} to return arrays)"
    message = f"{outcome.message}{where}"
    if outcome.exception == "TypeError" and "argument" in outcome.message:
        message += f". Check the signature: {signature}"
    if raises:
        message += f". Expected {raises}"
    return ERROR, message


def _example(
    lab: LabSpec,
    cases: list[Case],
    outcomes: dict[str, CallOutcome],
    expectations: dict[str, Expectation],
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
            message = f"your weights on the example have shape {got.shape}"
    else:
        message = outcome.message or outcome.status
    return ExampleWeights(list(lab.example.tokens), student, reference_weights, message)
