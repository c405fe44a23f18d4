"""What is generated must be current: exercise stubs, the example module, frozen public data."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import EXERCISES, SOLUTIONS

from attn_grade.frozen import freeze_arrays
from attn_grade.labspec import lab_ids, load_lab
from attn_grade.reference import load_reference
from attn_grade.stubs import solution_bodies, stale_files

LABS = [lab for lab in lab_ids() if (SOLUTIONS / lab).is_dir()]


@pytest.mark.parametrize("lab", LABS)
def test_exercises_are_generated_from_the_current_solutions(lab):
    stale = stale_files(load_lab(lab), SOLUTIONS / lab, EXERCISES / lab)
    assert not stale, f"run `attn-grade sync {lab}`: stale {stale}"


@pytest.mark.parametrize("lab", LABS)
def test_stubs_hold_no_solution_code(lab):
    for solution in (SOLUTIONS / lab).glob("*.py"):
        stub = EXERCISES / lab / solution.name
        if not stub.is_file():
            continue
        text = stub.read_text(encoding="utf-8")
        for body in solution_bodies(solution.read_text(encoding="utf-8")):
            assert body not in text, f"{stub} contains solution code"


@pytest.mark.parametrize("lab", LABS)
def test_frozen_public_data_is_current(lab):
    spec = load_lab(lab)
    current = freeze_arrays(spec, load_reference(spec, SOLUTIONS / lab))
    with np.load(spec.public_data_path, allow_pickle=False) as frozen:
        assert sorted(frozen.files) == sorted(current), f"run `attn-grade freeze {lab}`"
        for key, value in current.items():
            np.testing.assert_array_equal(frozen[key], value, err_msg=f"{key}: run `attn-grade freeze {lab}`")


@pytest.mark.parametrize("lab", LABS)
def test_every_known_mistake_is_distinguishable_on_some_public_test(lab):
    """A mistake's variant must differ from the reference on at least one public test,
    or the frozen data could never name it for a student without the reference."""
    spec = load_lab(lab)
    with np.load(spec.public_data_path, allow_pickle=False) as frozen:
        seen = {key.split("/")[2] for key in frozen.files if key.startswith("variant/")}
    assert {m.id for m in spec.mistakes} <= seen | _only_hidden(spec)


def _only_hidden(spec):
    """Mistakes whose functions have no public test (none today)."""
    public = {t.function for t in spec.tests_with("public")}
    return {m.id for m in spec.mistakes if not set(m.variants) & public}
