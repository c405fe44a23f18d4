"""Hostile: imports the grader's own modules and patches comparison and judging."""

import sys

import numpy as np

sys.path.insert(0, "@KIT_ROOT@/grader")  # the grader's source, wherever this uid can read it
try:
    import attn_grade.compare, attn_grade.grading, attn_grade.result

    class _Ok:
        ok = True
        message = ''

    attn_grade.compare.compare = lambda *a, **k: _Ok()
    attn_grade.grading.compare = attn_grade.compare.compare
    attn_grade.result.FAILED = 'passed'
except ImportError:
    pass  # out of reach (a clone in a private folder): nothing to patch, same verdict


def softmax(x, axis=-1):
    return np.zeros_like(x)
