"""The corpus: wrong and unusual-but-correct submissions, graded by the real engine.

Each case is a folder tests/corpus/<lab>/<case>/ holding the student files that
differ from the reference, and case.toml:

    expect = "full" | "wrong"     full test points, or fewer
    diagnosis = "mistake-id"      (wrong) a test must name this known mistake, and no
                                  test may name another one (unless in also_diagnosed)
    passing = ["test", ...]       these tests must still pass (the rest grades)
    failing = ["test", ...]       these tests must fail

The reference is copied to a temporary folder, the case's files laid over it,
and the folder graded with hidden tests on several seeds.
"""

from __future__ import annotations

import shutil
import tomllib

import pytest
from conftest import CORPUS, copy_reference

from attn_grade.grading import grade

SEEDS = (1, 2)


def _cases():
    for case_toml in sorted(CORPUS.glob("*/*/case.toml")):
        folder = case_toml.parent
        yield pytest.param(folder.parent.name, folder, id=f"{folder.parent.name}/{folder.name}")


@pytest.mark.parametrize(("lab", "case"), list(_cases()))
def test_corpus_case(lab, case, tmp_path):
    spec = tomllib.loads((case / "case.toml").read_text(encoding="utf-8"))
    assert spec["expect"] in ("full", "wrong"), f"{case}/case.toml: expect must be full or wrong"
    submission = copy_reference(lab, tmp_path / "submission")
    for path in case.iterdir():
        if path.is_file() and path.name != "case.toml" and not path.name.startswith("."):
            shutil.copy(path, submission / path.name)
    for seed in SEEDS:
        result = grade(lab, submission, seed=seed, deliverables=False)
        assert result.hidden_tests_ran
        by_name = {t.name: t for t in result.tests}
        earned = sum(t.points for t in result.tests)
        possible = sum(t.max_points for t in result.tests)
        summary = "\n".join(f"{t.name}: {t.status} {t.diagnosis} {t.message[:200]}" for t in result.tests)
        if spec["expect"] == "full":
            assert earned == possible, f"correct code lost points (seed {seed}):\n{summary}"
            continue
        assert earned < possible, f"wrong code got full marks (seed {seed})"
        named = {t.diagnosis for t in result.tests} - {None}
        if "diagnosis" in spec:
            assert spec["diagnosis"] in named, f"expected {spec['diagnosis']} (seed {seed}):\n{summary}"
        expected_names = {spec["diagnosis"]} if "diagnosis" in spec else set()
        expected_names |= set(spec.get("also_diagnosed", []))
        assert named <= expected_names, f"a wrong diagnosis was named (seed {seed}):\n{summary}"
        for name in spec.get("passing", []):
            assert by_name[name].status == "passed", f"{name} should pass:\n{summary}"
        for name in spec.get("failing", []):
            assert by_name[name].status != "passed", f"{name} should fail:\n{summary}"
