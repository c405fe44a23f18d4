"""NumPy's shape errors, explained as a sentence about shapes.

A student whose call raised sees NumPy's own text, e.g. "matmul: Input operand 1 has a
mismatch in its core dimension 0, with gufunc signature (n?,k),(k,m?)->(n?,m?) (size 7 is
different from 6)". explain() adds what it means for their arrays and the usual cause;
the original text is always kept beside it.
"""

from __future__ import annotations

import re

from attn_grade.translation import gettext_for

_MATMUL = re.compile(r"matmul: Input operand \d has a mismatch in its core dimension \d.*"
                     r"\(size (\d+) is different from (\d+)\)")
_DOT = re.compile(r"shapes \(([\d, ]*)\) and \(([\d, ]*)\) not aligned")
_BROADCAST = re.compile(r"operands could not be broadcast together with (?:remapped )?shapes (.*)")
_RESHAPE = re.compile(r"cannot reshape array of size (\d+) into shape (\([^)]*\))")
_AXES = re.compile(r"axes don't match array")
_EINSUM = re.compile(r"(einsum\(\): operands do not broadcast|size of label .* does not match)")


def explain(message: str, lang: str = "en") -> str | None:
    """A sentence about shapes, in `lang`, for a NumPy shape error's text, or None for
    another error."""
    _ = gettext_for(lang)
    # the sentences name no sizes (NumPy's text above has them): the same sentence under
    # several tests is shown once by the report
    if _MATMUL.search(message):
        return _(
            "In shapes: a matrix product A @ B needs A.shape[-1] == B.shape[-2]. On a "
            "batch, `.T` reverses every axis ((B, S, d) becomes (d, S, B)): use "
            "np.swapaxes(k, -1, -2) to transpose the last two axes only."
        )
    if _DOT.search(message):
        return _(
            "In shapes: np.dot's inner sizes differ. For batched arrays use @ (np.matmul) "
            "with np.swapaxes(k, -1, -2), not np.dot or `.T`."
        )
    if "remapped shapes" in message or _EINSUM.search(message):  # einsum's wording
        return _(
            "In shapes: an einsum's labels give one axis two different sizes: check that each "
            "letter stands for the same length in every operand (L queries, S keys, d widths)."
        )
    if _BROADCAST.search(message):
        return _(
            "In shapes: two arrays meet in one elementwise operation and do not broadcast "
            "(sizes must be equal from the right, or 1). Check which length each axis has "
            "(L queries, S keys) and which input each array was computed from."
        )
    if _RESHAPE.search(message):
        return _(
            "In shapes: a reshape asked for another number of values than the array has. "
            "Take each size from the array being reshaped (x.shape), not from another "
            "input: keys have length S, which may differ from the queries' L."
        )
    if _AXES.search(message):
        return _(
            "In shapes: transpose() got axes for another number of dimensions: transpose(0, 2, 1) "
            "needs exactly 3. np.swapaxes(x, -1, -2) swaps the last two axes of an array "
            "of any rank."
        )
    return None
