"""Public tests without the reference: inputs and expectations frozen into public.npz.

`attn-grade freeze LAB` computes them from the reference and writes
labs/<lab>/public.npz (committed, shipped to students). A test in the repo
checks that the file is current. Keys:

    input/<test>/<arg>[/<key>]          an array argument (dict arguments by key)
    expected/<test>/<i>                 the reference's i-th output
    variant/<test>/<mistake>/<n>/<i>    a known mistake's i-th output (n-th variant)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from attn_grade.cases import EXAMPLE_KEY, PUBLIC_SEED, Case, example_case, test_case
from attn_grade.diagnose import VariantOutputs
from attn_grade.expected import Expectation, expect
from attn_grade.labspec import LabSpec
from attn_grade.reference import Reference


def public_cases(lab: LabSpec) -> list[Case]:
    cases = [test_case(lab, t, PUBLIC_SEED) for t in lab.tests_with("public")]
    example = example_case(lab)
    return cases + ([example] if example else [])


def freeze_arrays(lab: LabSpec, reference: Reference) -> dict[str, np.ndarray]:
    arrays: dict[str, np.ndarray] = {}
    for case in public_cases(lab):
        _flatten(case.args, f"input/{case.key}", arrays)
        expectation = expect(lab, reference, case)
        for i, out in enumerate(expectation.outputs or []):
            arrays[f"expected/{case.key}/{i}"] = out
        for n, variant in enumerate(expectation.variants):
            for i, out in enumerate(variant.outputs):
                arrays[f"variant/{case.key}/{variant.mistake.id}/{n}/{i}"] = out
    return arrays


def write_public(lab: LabSpec, reference: Reference, path: Path | None = None) -> Path:
    path = path or lab.public_data_path
    np.savez_compressed(path, **freeze_arrays(lab, reference))
    return path


def _load(lab: LabSpec, prefixes: tuple[str, ...]) -> dict[str, np.ndarray]:
    with np.load(lab.public_data_path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files if k.startswith(prefixes)}


def load_public_cases(lab: LabSpec) -> list[Case] | None:
    """The public cases with their frozen inputs, or None if never frozen. Inputs only:
    the expectations are read after the student's processes are gone."""
    if not lab.public_data_path.is_file():
        return None
    arrays = _load(lab, ("input/",))
    cases = []
    for case in public_cases(lab):
        args = {
            name: _restore(value, f"input/{case.key}/{name}", arrays)
            for name, value in case.args.items()
        }
        cases.append(Case(case.key, case.function, args, case.test))
    return cases


def load_public_expectations(lab: LabSpec, cases: list[Case]) -> dict[str, Expectation]:
    """The frozen expected outputs and known-mistake outputs of the public cases."""
    arrays = _load(lab, ("expected/", "variant/"))
    mistakes = {m.id: m for m in lab.mistakes}
    expectations = {}
    for case in cases:
        outputs = _numbered(arrays, f"expected/{case.key}/")
        variants = []
        prefix = f"variant/{case.key}/"
        for mistake_id, n in sorted(
            {tuple(k[len(prefix) :].split("/")[:2]) for k in arrays if k.startswith(prefix)},
            key=lambda p: int(p[1]),
        ):
            variants.append(
                VariantOutputs(
                    mistakes[mistake_id], _numbered(arrays, f"{prefix}{mistake_id}/{n}/")
                )
            )
        raises = case.test is not None and case.test.raises
        expectations[case.key] = Expectation(None if raises else outputs, variants)
    return expectations


def _numbered(arrays: dict[str, np.ndarray], prefix: str) -> list[np.ndarray]:
    found = sorted(
        (int(k[len(prefix) :]), v)
        for k, v in arrays.items()
        if k.startswith(prefix) and k[len(prefix) :].isdigit()
    )
    return [v for _, v in found]


def _flatten(value: Any, key: str, out: dict[str, np.ndarray]) -> None:
    if isinstance(value, np.ndarray):
        out[key] = value
    elif isinstance(value, dict):
        for k, v in value.items():
            _flatten(v, f"{key}/{k}", out)


def _restore(value: Any, key: str, arrays: dict[str, np.ndarray]) -> Any:
    if isinstance(value, np.ndarray):
        return arrays.get(key, value)
    if isinstance(value, dict):
        return {k: _restore(v, f"{key}/{k}", arrays) for k, v in value.items()}
    return value


__all__ = [
    "EXAMPLE_KEY",
    "freeze_arrays",
    "load_public_cases",
    "load_public_expectations",
    "public_cases",
    "write_public",
]
