"""What a test expects: the reference's outputs, and each known mistake's outputs.

Computed in the grader's process from trusted code, and only after the student's
processes are gone, so no expected value exists while student code runs.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from attn_grade.cases import Case, as_float64
from attn_grade.diagnose import VariantOutputs
from attn_grade.labspec import LabSpec
from attn_grade.reference import Reference


@dataclass
class Expectation:
    outputs: list[np.ndarray] | None  # None when the test expects an exception
    variants: list[VariantOutputs]


def expect(lab: LabSpec, reference: Reference, case: Case) -> Expectation:
    if case.test is not None and case.test.raises:
        return Expectation(None, [])
    if case.test is not None and case.test.kind == "training":
        from attn_grade.checks.training import training_expectation  # it imports this module

        return training_expectation(lab, reference, case)
    outputs = call_reference(reference.function(case.function.name), case)
    variants = []
    for mistake, name in lab.mistakes_for(case.function.name):
        try:
            variants.append(VariantOutputs(mistake, call_reference(reference.variants[name], case)))
        except Exception:  # noqa: BLE001 - a variant that cannot run on these inputs names nothing
            continue
    return Expectation(outputs, variants)


def call_reference(function: Callable, case: Case) -> list[np.ndarray]:
    positional, keywords = case.split_args()
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        result = function(
            *[as_float64(a) for a in positional], **{k: as_float64(v) for k, v in keywords.items()}
        )
    results: Any = result if len(case.function.outputs) > 1 else (result,)
    return [np.asarray(r) for r in results]
