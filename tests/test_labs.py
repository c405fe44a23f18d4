"""Every lab: stubs score 0 with clear messages, the reference gets full marks, each
known mistake is observable and named unambiguously, handouts state the contract.

Lab-specific properties live in test_lab02.py, test_lab03.py; freshness of generated
files in test_consistency.py.
"""

from __future__ import annotations

import pytest
from attn_grade import cases
from attn_grade.compare import matches
from attn_grade.deliverables import CHECK_TAG
from attn_grade.diagnose import diagnose
from attn_grade.expected import expect
from attn_grade.grading import grade
from attn_grade.labspec import lab_ids, load_lab
from attn_grade.reference import find_solutions, load_reference
from conftest import SOLUTIONS, committed, copy_reference

LABS = [lab for lab in lab_ids() if (SOLUTIONS / lab).is_dir()]
SEEDS = (2017, 1, 2)


@pytest.mark.parametrize("lab_id", LABS)
def test_stubs_score_zero_with_clear_messages(lab_id, stubs):
    result = grade(lab_id, stubs(lab_id), seed=1)
    assert result.hidden_tests_ran
    assert result.score == 0
    for t in result.tests:
        assert "not implemented yet" in t.message, (t.name, t.message)
    assert all(d.status != "done" for d in result.deliverables)


@pytest.mark.parametrize("lab_id", LABS)
def test_reference_gets_full_marks_with_deliverables(lab_id, tmp_path):
    submission = copy_reference(lab_id, tmp_path / lab_id)
    result = grade(lab_id, submission, seed=3)
    failed = [(t.name, t.message) for t in result.tests if t.status != "passed"]
    assert not failed
    assert [d.id for d in result.deliverables if d.status != "done"] == []
    assert result.score == result.max_score
    assert result.example is not None and result.example.student is not None
    graded = [c for c in result.checklist if c.checked_by]
    assert graded and all(c.status == "verified" for c in graded)


def variant_diagnoses(lab_id: str) -> tuple[dict[str, set[str]], list[str]]:
    """Which tests observe each mistake, and every case where a variant's own output
    would be diagnosed as another mistake (an ambiguous spec)."""
    lab = load_lab(lab_id)
    reference = load_reference(lab, find_solutions(lab))
    observed: dict[str, set[str]] = {m.id: set() for m in lab.mistakes}
    ambiguous = []
    for seed in SEEDS:
        for test in lab.tests:
            if test.raises:
                continue
            case = cases.test_case(lab, test, seed)
            expectation = expect(lab, reference, case)
            kinds = case.function.output_kinds
            for variant in expectation.variants:
                pairs = zip(variant.outputs, expectation.outputs, kinds)
                if all(matches(v, r, k, test.rtol, test.atol) for v, r, k in pairs):
                    continue  # not observable on this test
                observed[variant.mistake.id].add(test.name)
                named = diagnose(variant.outputs, expectation.variants, kinds, test.rtol, test.atol)
                if named is None or named.id != variant.mistake.id:
                    ambiguous.append(f"{test.name} (seed {seed}): {variant.mistake.id} -> {named}")
    return observed, ambiguous


@pytest.mark.parametrize("lab_id", LABS)
def test_each_mistake_is_seen_and_named_unambiguously(lab_id):
    observed, ambiguous = variant_diagnoses(lab_id)
    assert ambiguous == []
    assert [m for m, tests in observed.items() if not tests] == [], "a mistake no test can see"


def verdicts_by_seed(lab_id: str, seeds) -> dict[tuple[str, str], set[bool]]:
    """For each (test, known mistake): the set of verdicts its variant gets over `seeds`.

    True: the variant's outputs pass the test. A variant that cannot run fails it.
    """
    lab = load_lab(lab_id)
    reference = load_reference(lab, find_solutions(lab))
    verdicts: dict[tuple[str, str], set[bool]] = {}
    for test in lab.tests:
        if test.raises or test.kind not in ("values", "gradient"):  # gradient: graded as values
            continue
        for seed in seeds:
            case = cases.test_case(lab, test, seed)
            expectation = expect(lab, reference, case)
            ran = {v.mistake.id: v for v in expectation.variants}
            for mistake, _ in lab.mistakes_for(test.function):
                variant = ran.get(mistake.id)
                pairs = zip(variant.outputs, expectation.outputs, case.function.output_kinds) if variant else ()
                passed = variant is not None and all(
                    matches(v, r, k, test.rtol, test.atol) for v, r, k in pairs
                )
                verdicts.setdefault((test.name, mistake.id), set()).add(passed)
    return verdicts


@pytest.mark.parametrize("lab_id", LABS)
def test_a_known_mistake_gets_the_same_verdict_whatever_the_seed(lab_id):
    """Hidden and (with the reference) public tests draw fresh inputs on each run, so a
    test that a known mistake passes on some draws and fails on others would give the
    same code different grades on two runs (the missing scale used to pass the large
    logits test whenever the softmax saturated)."""
    verdicts = verdicts_by_seed(lab_id, (cases.PUBLIC_SEED, *range(30)))
    assert [pair for pair, seen in verdicts.items() if len(seen) > 1] == []


@pytest.mark.parametrize("lab_id", LABS)
def test_handouts_state_the_contract_and_tie_the_checklist(lab_id):
    lab = load_lab(lab_id)
    for folder in (f"exercises/{lab_id}", f"solutions/{lab_id}"):  # as committed
        readme = committed(f"{folder}/README.md")
        for function in lab.functions:
            assert f"{function}(" in readme, f"{folder}/README.md does not state {function}"
        checklist = committed(f"{folder}/CHECKLIST.md")
        tags = {m["id"] for m in CHECK_TAG.finditer(checklist)}
        expected = {d.id for d in lab.deliverables} | {f"tests:{f}" for f in lab.functions}
        assert tags == expected
    for mistake in lab.mistakes:
        assert mistake.hint_pt != mistake.hint, f"{mistake.id} has no Portuguese hint"


@pytest.mark.parametrize("lab_id", LABS)
def test_report_template_earns_nothing(lab_id, tmp_path):
    """The template's instructions (> lines) do not count as answers."""
    submission = copy_reference(lab_id, tmp_path / lab_id)
    for name in ("REPORT.md", "REPORT.pt-BR.md"):  # the grader reads either: both templates
        (submission / name).write_text(committed(f"exercises/{lab_id}/{name}"), encoding="utf-8")
    result = grade(lab_id, submission, seed=1)
    from_report = {d.id for d in load_lab(lab_id).deliverables if d.kind.startswith("report-")}
    reports = [d for d in result.deliverables if d.id in from_report]
    assert reports and all(d.status == "incomplete" for d in reports)
