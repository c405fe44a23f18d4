"""Concrete test cases: a test spec with its generated arguments, and the call for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from attn_grade.inputs import build_args
from attn_grade.labspec import FunctionSpec, LabSpec, TestSpec
from attn_grade.runner import Call

PUBLIC_SEED = 2017  # the year of "Attention Is All You Need"
EXAMPLE_KEY = "__example__"


@dataclass(frozen=True)
class Case:
    key: str  # the test's name, or EXAMPLE_KEY
    function: FunctionSpec
    args: dict[str, Any]
    test: TestSpec | None = None  # None for the example sentence

    def split_args(self) -> tuple[list[Any], dict[str, Any]]:
        """Declared positional arguments go by position, the others by keyword."""
        positional = [self.args[n] for n in self.function.positional if n in self.args]
        keywords = {n: v for n, v in self.args.items() if n not in self.function.positional}
        return positional, keywords

    def call(self) -> Call:
        positional, keywords = self.split_args()
        watched = self.test.check_unchanged if self.test else ()
        names = [n for n in self.function.positional if n in self.args]
        return Call(
            key=self.key,
            module=self.function.module,
            function=self.function.name,
            args=positional,
            kwargs=keywords,
            n_outputs=len(self.function.outputs),
            return_positional=tuple(sorted(names.index(n) for n in watched if n in names)),
            return_keyword=tuple(n for n in watched if n in keywords),
        )

    def watched_inputs(self) -> tuple[str, ...]:
        """check_unchanged names in the order the child sends them back."""
        if self.test is None:
            return ()
        names = [n for n in self.function.positional if n in self.args]
        first = [n for n in self.test.check_unchanged if n in names]
        first.sort(key=names.index)
        return tuple(first + [n for n in self.test.check_unchanged if n not in names])


def test_case(lab: LabSpec, test: TestSpec, seed: int) -> Case:
    return Case(
        test.name, lab.functions[test.function], build_args(test.args, seed, test.name), test
    )


def example_case(lab: LabSpec) -> Case | None:
    if lab.example is None:
        return None
    args = build_args(lab.example.args, PUBLIC_SEED, EXAMPLE_KEY)
    return Case(EXAMPLE_KEY, lab.functions[lab.example.function], args)


def as_float64(value: Any) -> Any:
    """The reference computes in float64 on the same inputs the student got."""
    if isinstance(value, np.ndarray) and value.dtype.kind == "f":
        return value.astype(np.float64)
    if isinstance(value, dict):
        return {k: as_float64(v) for k, v in value.items()}
    return value
