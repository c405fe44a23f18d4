"""Build a test's arguments from the generator tables of its lab spec.

Each argument of a test is one small table in lab.toml:

    { normal = [4, 7], scale = 2.0 }          standard normal * scale, float64
        dtype = "float32"                     cast after drawing
        offset = 20.0                         add this constant to every entry
        row_offset_scale = 1000.0             add one N(0, s) offset per row (last axis)
        row_offsets = [800, 3000]             add one offset of size in [800, 3000) per row, of
                                              either sign (both signs occur when there are rows
                                              enough): every row is far from zero, for sure
        neg_inf_fraction = 0.3                set that share of entries to -inf (never a whole row)
        softmax = -1                          then a softmax along that axis (probabilities; -inf -> 0)
    { uniform = [3, 4], low = 0, high = 1 }   uniform draws
    { integers = [4], low = 1, high = 9 }     integers in [low, high)
    { mask = [5, 7], keep = 0.6 }             boolean mask; every row (last axis) has a True and a False
        invert = true                         the complement of the same draw
    { causal = [5, 5] }                       lower-triangular boolean mask, True = may attend
    { array = [[1, 2], [3, 4]] }              a literal array (dtype = "bool" / "float32" / "int64")
    { value = 0 }                             a literal Python value (an axis, a count, a string)
    { same_as = "q" }                         the very same value as an earlier argument
    { dict = { W = {...}, b = {...} } }       a dict of generated values
    seed_key = "pair"                         on any random generator: draw from a named stream,
                                              so two tests can share inputs (a mask and its complement)

Random draws depend on (seed, seed_key or "test/argument"), so public inputs are
reproducible and hidden inputs change with the run's seed.
"""

from __future__ import annotations

import zlib
from typing import Any

import numpy as np

from attn_grade.errors import LabSpecError


def build_args(generators: dict[str, Any], seed: int, stream: str) -> dict[str, Any]:
    """Generate every argument of one call. `stream` names the test (for default seed keys)."""
    values: dict[str, Any] = {}
    for name, gen in generators.items():
        values[name] = _build(gen, seed, f"{stream}/{name}", values)
    return values


def _rng(seed: int, key: str) -> np.random.Generator:
    return np.random.default_rng([seed, zlib.crc32(key.encode("utf-8"))])


def _build(gen: Any, seed: int, key: str, earlier: dict[str, Any]) -> Any:
    if not isinstance(gen, dict):
        raise LabSpecError(f"argument {key}: a generator must be a table, got {gen!r}")
    rng = _rng(seed, gen.get("seed_key", key))
    dtype = gen.get("dtype")
    if "normal" in gen:
        shape = tuple(gen["normal"])
        x = rng.normal(size=shape) * float(gen.get("scale", 1.0)) + float(gen.get("offset", 0.0))
        if gen.get("row_offset_scale"):
            x = x + rng.normal(size=shape[:-1] + (1,)) * float(gen["row_offset_scale"])
        if "row_offsets" in gen:
            x = x + _row_offsets(shape[:-1] + (1,), gen["row_offsets"], key, rng)
        if gen.get("neg_inf_fraction"):
            x = _sprinkle_neg_inf(x, float(gen["neg_inf_fraction"]), rng)
        if "softmax" in gen:
            axis = int(gen["softmax"])
            exps = np.exp(x - np.max(x, axis=axis, keepdims=True))
            x = exps / np.sum(exps, axis=axis, keepdims=True)
        return x.astype(dtype or np.float64)
    if "uniform" in gen:
        x = rng.uniform(
            float(gen.get("low", 0.0)), float(gen.get("high", 1.0)), size=gen["uniform"]
        )
        return x.astype(dtype or np.float64)
    if "integers" in gen:
        x = rng.integers(int(gen.get("low", 0)), int(gen["high"]), size=gen["integers"])
        return x.astype(dtype or np.int64)
    if "mask" in gen:
        mask = _mixed_mask(tuple(gen["mask"]), float(gen.get("keep", 0.6)), rng)
        return ~mask if gen.get("invert") else mask
    if "causal" in gen:
        length, keys = gen["causal"]
        return np.tril(np.ones((length, keys), dtype=bool))
    if "array" in gen:
        return np.array(gen["array"], dtype=dtype or np.float64)
    if "value" in gen:
        return gen["value"]
    if "same_as" in gen:
        if gen["same_as"] not in earlier:
            raise LabSpecError(
                f"argument {key}: same_as {gen['same_as']!r} is not an earlier argument"
            )
        return earlier[gen["same_as"]]
    if "dict" in gen:
        return {
            name: _build(sub, seed, f"{key}/{name}", earlier) for name, sub in gen["dict"].items()
        }
    raise LabSpecError(f"argument {key}: unknown generator {sorted(gen)}")


def _row_offsets(
    shape: tuple[int, ...], bounds: Any, key: str, rng: np.random.Generator
) -> np.ndarray:
    """One offset per row, of size in [low, high) and either sign; both signs when rows >= 2.

    Shapes:
        shape: (..., 1), the rows of the array they are added to
        returns: shape
    """
    if not (isinstance(bounds, list) and len(bounds) == 2 and 0 <= bounds[0] < bounds[1]):
        raise LabSpecError(f"argument {key}: row_offsets must be [low, high] with 0 <= low < high")
    sizes = rng.uniform(float(bounds[0]), float(bounds[1]), size=shape)
    signs = np.where(rng.random(shape) < 0.5, -1.0, 1.0).reshape(-1)  # (rows,)
    if signs.size >= 2:
        signs[:2] = [1.0, -1.0]
        signs = rng.permutation(signs)
    return sizes * signs.reshape(shape)  # (rows,) -> (..., 1)


def _sprinkle_neg_inf(x: np.ndarray, fraction: float, rng: np.random.Generator) -> np.ndarray:
    hit = rng.random(x.shape) < fraction
    hit[..., 0] = False  # every slice keeps at least one finite entry
    hit = np.take_along_axis(hit, rng.permuted(np.indices(x.shape)[-1], axis=-1), axis=-1)
    return np.where(hit, -np.inf, x)


def _mixed_mask(shape: tuple[int, ...], keep: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean mask in which every row (last axis) holds at least one True and one False."""
    mask = rng.random(shape) < keep
    if shape[-1] >= 2:
        mask[..., 0] = True
        mask[..., 1] = False
        order = rng.permuted(np.indices(shape)[-1], axis=-1)  # shuffle each row independently
        mask = np.take_along_axis(mask, order, axis=-1)
    return mask
