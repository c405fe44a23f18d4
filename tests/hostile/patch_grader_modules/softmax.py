"""Hostile: imports the grader's own modules and patches comparison and judging."""

import numpy as np
import attn_grade.compare, attn_grade.grading, attn_grade.result
class _Ok:
    ok = True
    message = ''
attn_grade.compare.compare = lambda *a, **k: _Ok()
attn_grade.grading.compare = attn_grade.compare.compare
attn_grade.result.FAILED = 'passed'
def softmax(x, axis=-1):
    return np.zeros_like(x)
