"""What is generated must be current: exercise stubs, the example module, frozen public data.

exercises/ is read as committed in git, never from the working tree, where a student's
own work lives.
"""

from __future__ import annotations

import numpy as np
import pytest
from attn_grade.frozen import freeze_arrays
from attn_grade.labspec import lab_ids, load_lab
from attn_grade.reference import load_reference
from attn_grade.stubs import exercise_files, solution_bodies, stale_files
from conftest import SOLUTIONS, committed, write_stubs

LABS = [lab for lab in lab_ids() if (SOLUTIONS / lab).is_dir()]


@pytest.mark.parametrize("lab", LABS)
def test_exercises_are_generated_from_the_current_solutions(lab, tmp_path):
    """`attn-grade sync LAB --check` on exercises/ as committed (git HEAD)."""
    spec = load_lab(lab)
    for name in exercise_files(spec, SOLUTIONS / lab):
        try:
            text = committed(f"exercises/{lab}/{name}")
        except FileNotFoundError:
            continue  # not committed: stale_files names it
        (tmp_path / name).write_text(text, encoding="utf-8")
    stale = stale_files(spec, SOLUTIONS / lab, tmp_path)
    assert not stale, f"run `attn-grade sync {lab}` and commit exercises/{lab}: stale {stale}"


@pytest.mark.parametrize("lab", LABS)
def test_stubs_hold_no_solution_code(lab, tmp_path):
    stubs = write_stubs(lab, tmp_path / lab)
    for solution in (SOLUTIONS / lab).glob("*.py"):
        stub = stubs / solution.name
        if not stub.is_file():
            continue
        text = stub.read_text(encoding="utf-8")
        for body in solution_bodies(solution.read_text(encoding="utf-8")):
            assert body not in text, f"{stub.name} of {lab} contains solution code"


@pytest.mark.parametrize("lab", LABS)
def test_frozen_public_data_is_current(lab):
    """The frozen data is what the reference computes today, up to rounding.

    Not bit for bit: OpenBLAS picks its matmul kernel by CPU (OPENBLAS_CORETYPE), and two
    kernels sum in different orders (6.7e-16 apart on lab03 here). rtol 1e-12 is 9 orders
    of magnitude below the grading tolerance (rtol 1e-3, atol 1e-4 * max(1, max|expected|)),
    so any real change of the reference or of the inputs still fails this test."""
    spec = load_lab(lab)
    current = freeze_arrays(spec, load_reference(spec, SOLUTIONS / lab))
    with np.load(spec.public_data_path, allow_pickle=False) as frozen:
        assert sorted(frozen.files) == sorted(current), f"run `attn-grade freeze {lab}`"
        for key, value in current.items():
            stale = f"{key}: run `attn-grade freeze {lab}`"
            value = np.asarray(value)
            assert (frozen[key].shape, frozen[key].dtype) == (value.shape, value.dtype), stale
            if np.issubdtype(frozen[key].dtype, np.floating):
                finite = np.abs(value[np.isfinite(value)])
                scale = max(1.0, float(finite.max(initial=0.0)))  # inf would pass anything
                np.testing.assert_allclose(
                    frozen[key], value, rtol=1e-12, atol=1e-12 * scale, err_msg=stale
                )
            else:
                np.testing.assert_array_equal(frozen[key], value, err_msg=stale)


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
