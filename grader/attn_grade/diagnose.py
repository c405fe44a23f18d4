"""Name the mistake behind a wrong result.

A known mistake is a wrong variant of the reference (solutions/<lab>/known_mistakes.py,
listed in the lab spec). If the student's outputs match a variant's outputs on the
same inputs, and not the reference's, the variant's mistake is the diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from attn_grade.compare import matches
from attn_grade.labspec import MistakeSpec

MODIFIES_INPUT = MistakeSpec(
    id="modifies-input",
    hint=(
        "Your function changed its input array in place (for example x -= x.max(...)). "
        "Callers keep using their arrays: compute into a new array instead (x = x - ...)."
    ),
    hint_pt=(
        "Sua função alterou o array de entrada (por exemplo x -= x.max(...)). Quem chama "
        "continua usando seus arrays: calcule num array novo (x = x - ...)."
    ),
    variants={},
)


@dataclass(frozen=True)
class VariantOutputs:
    """What one known-mistake variant returns on a test's inputs."""

    mistake: MistakeSpec
    outputs: list[np.ndarray]


def diagnose(
    got: list[np.ndarray],
    variants: list[VariantOutputs],
    kinds: tuple[str, ...],
    rtol: float,
    atol: float,
) -> MistakeSpec | None:
    """The first known mistake whose outputs all match the student's, or None."""
    for variant in variants:
        if len(variant.outputs) == len(got) and all(
            matches(g, v, k, rtol, atol) for g, v, k in zip(got, variant.outputs, kinds)
        ):
            return variant.mistake
    return None


def modified_inputs(
    before: list[np.ndarray], after: list[np.ndarray], names: tuple[str, ...]
) -> list[str]:
    """Names of the inputs that differ after the call."""
    return [
        name
        for name, b, a in zip(names, before, after)
        if a.shape != b.shape or not np.array_equal(a, b, equal_nan=True)
    ]
