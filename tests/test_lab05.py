"""Lab 05 (the backward pass of attention): properties of its own (shared checks:
test_labs.py; the PyTorch oracle: test_oracle.py; wrong and unusual submissions:
corpus/lab05).

The tolerance of lab.toml is measured here: correct variants written differently
(einsum, loops, a cache-based design) against the reference, and the known mistakes'
distance from it."""

from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pytest
from attn_grade import cases
from attn_grade.checks.gradcheck_table import AGREE_BELOW, parse_table
from attn_grade.checks.gradient import CONSISTENT_BELOW, gradient_calls, measure
from attn_grade.cli import app
from attn_grade.deliverables import run_script
from attn_grade.errors import LabSpecError
from attn_grade.expected import call_reference, expect
from attn_grade.grading import grade
from attn_grade.labspec import load_lab
from attn_grade.reference import find_solutions, load_reference
from attn_grade.runner import CallOutcome, Limits
from conftest import CORPUS, SOLUTIONS, copy_reference
from typer.testing import CliRunner

LAB = "lab05"
SEEDS = (1, 2, 3)
CORRECT_VARIANTS = ("einsum", "loops", "cache_based")


@pytest.fixture(scope="module")
def lab():
    return load_lab(LAB)


@pytest.fixture(scope="module")
def ref(lab):
    return load_reference(lab, find_solutions(lab))


def scaled_error(got: np.ndarray, want: np.ndarray) -> float:
    """max |got - want| / max(1, max |want|): the quantity atol bounds."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return np.inf
    return float(np.max(np.abs(got - want), initial=0.0) / max(1.0, np.max(np.abs(want), initial=0.0)))


def values_tests(lab, function=None):
    return [t for t in lab.tests if t.kind == "values" and function in (None, t.function)]


@pytest.mark.parametrize("variant", CORRECT_VARIANTS)
def test_tolerance_margin_over_correct_variants(lab, ref, variant, tmp_path):
    """Every correct variant is within 1e-3 of the tolerance on every test and seed: the
    tolerance is at least 10^3 above what writing the code differently costs (measured:
    about 10^4, see lab.toml)."""
    folder = copy_reference(LAB, tmp_path / variant)
    shutil.copy(SOLUTIONS / LAB / "known_mistakes.py", folder)
    for path in (CORPUS / LAB / variant).glob("*.py"):
        shutil.copy(path, folder / path.name)
    other = load_reference(lab, folder)
    worst = 0.0
    for seed in SEEDS:
        for test in values_tests(lab):
            case = cases.test_case(lab, test, seed)
            want = call_reference(ref.function(test.function), case)
            got = call_reference(other.function(test.function), case)
            for g, w in zip(got, want):
                error = scaled_error(g, w)
                assert error <= 1e-3 * test.atol or test.function == "numerical_gradient_of", (
                    test.name, seed, error)
                if test.function != "numerical_gradient_of":
                    worst = max(worst, error)
    print(f"{variant}: largest scaled error {worst:.2g} (atol {lab.tests[1].atol:g})")


def test_known_mistakes_are_far_outside_the_tolerance(lab, ref):
    """Where a known mistake is observable, it is off by far more than the tolerance."""
    smallest = {}
    for seed in SEEDS:
        for test in values_tests(lab):
            case = cases.test_case(lab, test, seed)
            expectation = expect(lab, ref, case)
            for variant in expectation.variants:
                error = max(scaled_error(g, w) for g, w in zip(variant.outputs, expectation.outputs))
                if error > test.atol:
                    key = variant.mistake.id
                    smallest[key] = min(smallest.get(key, np.inf), error)
    print({k: f"{v:.2g}" for k, v in sorted(smallest.items())})
    assert set(smallest) == {m.id for m in lab.mistakes}
    for mistake, error in smallest.items():
        assert error > 1e-4, (mistake, error)


def test_numerical_gradient_centred_is_second_order_and_one_sided_is_not(ref):
    """The reference's centred differences are near the exact gradients at the tests' eps;
    the one-sided variants are off by O(eps), and the error falls by 100x per 10x eps
    for the centred one only."""
    module = ref.functions["numerical_gradient_of"].__globals__
    exact = module["KNOWN_GRADIENTS"]
    x = np.random.default_rng(5).normal(size=(3, 4))
    centred = ref.functions["numerical_gradient_of"]
    forward = ref.variants["numerical_gradient_of_forward_difference"]
    for name, gradient in exact.items():
        errors = {eps: np.max(np.abs(centred(name, x, eps) - gradient(x))) for eps in (1e-2, 1e-3)}
        assert errors[1e-3] < errors[1e-2] / 50, (name, errors)
        one_sided = {eps: np.max(np.abs(forward(name, x, eps) - gradient(x))) for eps in (1e-2, 1e-3)}
        assert one_sided[1e-3] > one_sided[1e-2] / 20, (name, one_sided)
        assert one_sided[1e-3] > 100 * errors[1e-3], name
        assert np.array_equal(x, np.random.default_rng(5).normal(size=(3, 4)))  # x untouched


def relative_error(a: np.ndarray, n: np.ndarray) -> float:
    """The handout's measure: max |a - n| / max(1, max(|a| + |n|)) (absolute near 0:
    db_k is exactly 0, and numerical noise of 1e-9 must not read as a relative error of 1)."""
    return float(np.max(np.abs(a - n)) / max(1.0, np.max(np.abs(a) + np.abs(n))))


def test_the_handouts_gradient_check_recipe_passes_the_reference(ref):
    """README: f = sum(forward(x) * dout); numerical_gradient(f, x) against the backward,
    relative error below 1e-7, for every input of every backward function."""
    f = ref.functions
    numgrad = f["numerical_gradient_of"].__globals__["numerical_gradient"]
    fwd = f["scaled_dot_product_attention"].__globals__
    r = np.random.default_rng(11)
    q, k, v = r.normal(size=(2, 3, 4)), r.normal(size=(2, 5, 4)), r.normal(size=(2, 5, 2))
    mask = r.random((3, 5)) < 0.6
    mask[:, 0] = True
    dout = r.normal(size=(2, 3, 2))
    analytic = f["attention_backward"](dout, q, k, v, mask)
    inputs = {"q": q, "k": k, "v": v}
    for i, name in enumerate(("q", "k", "v")):
        def loss(t, name=name):
            args = {**inputs, name: t}
            return np.sum(fwd["scaled_dot_product_attention"](args["q"], args["k"], args["v"], mask)[0] * dout)

        assert relative_error(analytic[i], numgrad(loss, inputs[name])) < 1e-7, name

    x, w, b = r.normal(size=(2, 3, 4)), r.normal(size=(4, 5)), r.normal(size=5)
    dy = r.normal(size=(2, 3, 5))
    dx, dw, db = f["linear_backward"](dy, x, w)
    assert relative_error(dx, numgrad(lambda t: np.sum(fwd["linear"](t, w, b) * dy), x)) < 1e-7
    assert relative_error(dw, numgrad(lambda t: np.sum(fwd["linear"](x, t, b) * dy), w)) < 1e-7
    assert relative_error(db, numgrad(lambda t: np.sum(fwd["linear"](x, w, t) * dy), b)) < 1e-7

    gamma, beta = r.uniform(0.5, 1.5, 4), r.normal(size=4)
    dz = r.normal(size=(2, 3, 4))
    dx, dgamma, _ = f["layer_norm_backward"](dz, x, gamma)
    assert relative_error(dx, numgrad(lambda t: np.sum(fwd["layer_norm"](t, gamma, beta) * dz), x)) < 1e-7
    assert relative_error(dgamma, numgrad(lambda t: np.sum(fwd["layer_norm"](x, t, beta) * dz), gamma)) < 1e-7

    probs_in = r.normal(size=(3, 6))
    dp = r.normal(size=(3, 6))
    dx = f["softmax_backward"](dp, fwd["softmax"](probs_in))
    assert relative_error(dx, numgrad(lambda t: np.sum(fwd["softmax"](t) * dp), probs_in)) < 1e-7

    logits, targets = r.normal(size=(2, 3, 5)) * 3, r.integers(0, 5, (2, 3))
    _, dlogits = f["cross_entropy"](logits, targets)
    ce = f["cross_entropy"]
    assert relative_error(dlogits, numgrad(lambda t: ce(t, targets)[0], logits)) < 1e-7

    params = {f"w_{n}": r.normal(size=(4, 4)) / 2 for n in "qkvo"}
    params.update({f"b_{n}": r.normal(size=4) * 0.3 for n in "qkvo"})
    x_q, x_kv, dm = r.normal(size=(2, 3, 4)), r.normal(size=(2, 5, 4)), r.normal(size=(2, 3, 4))
    grads = dict(zip(fwd_names(), f["mha_backward"](dm, x_q, x_kv, params, 2, mask)))
    mha = fwd["mha_forward"]
    assert relative_error(grads["dx_q"], numgrad(lambda t: np.sum(mha(t, x_kv, params, 2, mask)[0] * dm), x_q)) < 1e-7
    assert relative_error(grads["dx_kv"], numgrad(lambda t: np.sum(mha(x_q, t, params, 2, mask)[0] * dm), x_kv)) < 1e-7
    for key in params:
        def loss(t, key=key):
            return np.sum(mha(x_q, x_kv, {**params, key: t}, 2, mask)[0] * dm)

        assert relative_error(grads[f"d{key}"], numgrad(loss, params[key])) < 1e-7, key


def fwd_names() -> tuple[str, ...]:
    return ("dx_q", "dx_kv", "dw_q", "db_q", "dw_k", "db_k", "dw_v", "db_v", "dw_o", "db_o")


def test_mha_gradient_order_is_the_spec_outputs(lab, ref):
    """The handout's MHA_GRADIENTS order is the order the spec compares."""
    assert lab.functions["mha_backward"].outputs == fwd_names()
    assert ref.functions["mha_backward"].__globals__["MHA_GRADIENTS"] == fwd_names()


def test_cli_check_full_marks_on_the_reference_and_zero_on_the_stubs(tmp_path, stubs):
    submission = copy_reference(LAB, tmp_path / LAB)
    runner = CliRunner()
    full = runner.invoke(app, ["check", LAB, "--path", str(submission), "--json", "--no-png",
                               "--seed", "4"])
    report = json.loads(full.stdout)
    assert report["score"] == report["max_score"] > 0, full.stdout[:2000]
    empty = runner.invoke(app, ["check", LAB, "--path", str(stubs(LAB)), "--json", "--no-png",
                                "--seed", "4"])
    assert json.loads(empty.stdout)["score"] == 0


# ------------------------------------------------------------ the gradient test kind

def gradient_tests(lab) -> list[str]:
    return [t.name for t in lab.tests if t.kind == "gradient"]


def graded_gradient_tests(lab, folder, seed=5, lang="en"):
    result = grade(LAB, folder, seed=seed, only=gradient_tests(lab), lang=lang)
    return {t.name: t for t in result.tests}


def reference_outcomes(lab, ref, case) -> dict:
    """What the child would send back for a gradient test's forward calls, computed here
    with the reference's forward (the measurement only ever sees plain arrays)."""
    outcomes = {}
    for call in gradient_calls(lab, case):
        forward = ref.functions["scaled_dot_product_attention" if call.module == "forward"
                                else "cross_entropy"].__globals__[call.function]
        result = forward(*call.args, **call.kwargs)
        result = result if call.n_outputs > 1 else (result,)
        outcomes[call.key] = CallOutcome("ok", outputs=[np.asarray(r) for r in result])
    return outcomes


def test_gradient_check_margins_on_every_seed(lab, ref):
    """The check's verdict is the same on every seed: the reference's backward is within
    1e-8 of its forward's centred differences (measured: 1.8e-10), every known mistake
    observable on a gradient test is off by more than 1e-4 (measured: 0.025 or more), and
    CONSISTENT_BELOW = 1e-6 sits between them."""
    worst_right, smallest_wrong = 0.0, {}
    for name in gradient_tests(lab):
        test = next(t for t in lab.tests if t.name == name)
        for seed in (cases.PUBLIC_SEED, *range(30)):
            case = cases.test_case(lab, test, seed)
            outcomes = reference_outcomes(lab, ref, case)
            want = call_reference(ref.function(test.function), case)
            worst_right = max(worst_right, measure(lab, case, want, outcomes).largest)
            for _mistake, variant in lab.mistakes_for(test.function):
                try:
                    got = call_reference(ref.variants[variant], case)
                except Exception:  # noqa: BLE001 - a variant that cannot run: a failed test
                    continue
                if all(scaled_error(g, w) <= test.atol for g, w in zip(got, want)):
                    continue  # not observable here
                found = measure(lab, case, got, outcomes)
                key = (name, variant)
                smallest_wrong[key] = min(smallest_wrong.get(key, np.inf), found.largest)
    print(f"right: {worst_right:.2g}; wrong:", {k: f"{v:.2g}" for k, v in smallest_wrong.items()})
    assert worst_right < 1e-2 * CONSISTENT_BELOW
    assert smallest_wrong and min(smallest_wrong.values()) > 1e2 * CONSISTENT_BELOW


def test_gradient_tests_pass_the_reference_and_say_it_is_the_gradient(lab, tmp_path):
    tests = graded_gradient_tests(lab, copy_reference(LAB, tmp_path / LAB))
    assert set(tests) == set(gradient_tests(lab)) and len(tests) >= 5
    for t in tests.values():
        assert t.status == "passed", (t.name, t.message)
        assert "it is the gradient of your" in t.message, t.message


def test_a_consistent_but_non_standard_forward_and_backward_is_told_so(lab, tmp_path):
    """Scores divided by d_k in the forward AND the backward: the backward is the exact
    gradient of the student's forward, so the grader says the forward is what differs."""
    submission = copy_reference(LAB, tmp_path / LAB)
    for path in (CORPUS / LAB / "consistent_scale_over_dk").glob("*.py"):
        shutil.copy(path, submission / path.name)
    tests = graded_gradient_tests(lab, submission)
    for name in ("attention_backward_gradient", "attention_backward_gradient_hidden",
                 "mha_backward_gradient"):
        t = tests[name]
        assert t.status == "failed" and t.points == 0, (name, t.message)
        assert t.message.startswith("your backward matches your own"), t.message
        assert "differs from the reference" in t.message and t.diagnosis is None
    # the reference forward is known for scaled_dot_product_attention: the difference is shown
    assert "by up to" in tests["attention_backward_gradient"].message
    for name in ("linear_backward_gradient", "layer_norm_backward_gradient",
                 "cross_entropy_gradient"):
        assert tests[name].status == "passed"
    pt = graded_gradient_tests(lab, submission, lang="pt")["attention_backward_gradient"]
    assert pt.message.startswith("o seu backward bate com o gradiente numérico"), pt.message


@pytest.mark.parametrize(("case_name", "mistake"), [
    ("backward_scale_missing", "backward-scale-missing"),
    ("gradient_into_masked", "gradient-into-masked-keys"),
    ("layer_norm_no_statistics", "layer-norm-backward-ignores-statistics"),
])
def test_a_wrong_backward_is_told_it_is_not_the_gradient_of_its_own_forward(
        lab, tmp_path, case_name, mistake):
    submission = copy_reference(LAB, tmp_path / LAB)
    for path in (CORPUS / LAB / case_name).glob("*.py"):
        shutil.copy(path, submission / path.name)
    failed = [t for t in graded_gradient_tests(lab, submission).values() if t.status != "passed"]
    assert failed
    for t in failed:
        assert t.message.startswith("your backward does not match the gradient of your own"), (
            t.name, t.message)
        assert t.diagnosis == mistake, (t.name, t.diagnosis)


HUGE_GRADIENTS = """

def _huge(f):
    def wrapped(*args, **kwargs):
        return tuple(np.full_like(np.asarray(g, dtype=float), 1e200) for g in f(*args, **kwargs))
    return wrapped


attention_backward = _huge(attention_backward)
linear_backward = _huge(linear_backward)
"""


def test_huge_finite_gradients_are_not_a_perfect_match(lab, ref, tmp_path):
    """Gradients of 1e200: their norm overflowed to inf, which made every error 0 ("matches
    your own forward's numerical gradient within 0e+00") and the table's 1e-11 "right"."""
    test = next(t for t in lab.tests if t.name == "attention_backward_gradient")
    case = cases.test_case(lab, test, 5)
    huge = [np.full_like(g, 1e200) for g in call_reference(ref.function(test.function), case)]
    found = measure(lab, case, huge, reference_outcomes(lab, ref, case))
    assert not found.consistent and all(0.0 < e < np.inf for e in found.errors.values()), found
    submission = copy_reference(LAB, tmp_path / LAB)
    with (submission / "backward.py").open("a", encoding="utf-8") as f:
        f.write(HUGE_GRADIENTS)
    made_up_gradcheck(submission)  # every row 1e-11
    tests = graded_gradient_tests(lab, submission)
    for name in ("attention_backward_gradient", "linear_backward_gradient"):
        t = tests[name]
        assert t.status == "failed" and t.points == 0, (name, t.message)
        assert t.message.startswith(
            "your backward does not match the gradient of your own "), (name, t.message)
    done = gradcheck_result(submission)
    assert done.status == "failed" and done.points == 0, done.message
    assert done.message.startswith(
        "gradcheck.txt does not match the grader's measurement of your functions: "
        "attention_backward dq yours 1.0e-11, the grader's"), done.message


def test_a_backward_of_the_wrong_shape_is_told_so(lab, tmp_path):
    submission = copy_reference(LAB, tmp_path / LAB)
    shutil.copy(CORPUS / LAB / "dq_dk_swapped" / "backward.py", submission / "backward.py")
    t = graded_gradient_tests(lab, submission)["attention_backward_gradient"]  # L != S
    assert t.status == "failed"
    assert "dq, dk cannot be compared with it (wrong shape, or not finite)" in t.message, t.message
    assert t.diagnosis == "dq-dk-swapped"


def test_a_forward_that_fails_leaves_the_values_verdict_and_says_the_check_did_not_run(
        lab, tmp_path):
    """A backward that does not call the forward, next to a forward that raises: the check
    cannot run; the backward's own verdict stands (here: right, so the points stay)."""
    submission = copy_reference(LAB, tmp_path / LAB)
    shutil.copy(CORPUS / LAB / "cache_based" / "backward.py", submission / "backward.py")
    source = (submission / "forward.py").read_text(encoding="utf-8")
    (submission / "forward.py").write_text(
        source + "\n\ndef linear(x, w, b):\n    raise RuntimeError('no linear today')\n",
        encoding="utf-8")
    tests = graded_gradient_tests(lab, submission)
    assert tests["linear_backward_gradient"].status == "passed"
    message = tests["linear_backward_gradient"].message
    assert message.startswith("right: it is the reference's gradient (the grader's check against "
                              "your linear could not run: RuntimeError: no linear today"), message
    assert tests["attention_backward_gradient"].status == "passed"


# ------------------------------------------------------------ the gradcheck.py deliverable

def gradcheck_result(submission, lang="en"):
    result = grade(LAB, submission, seed=1, lang=lang)
    return next(d for d in result.deliverables if d.id == "gradcheck")


MADE_UP = '''
import sys
from gradcheck import ROWS

with open(sys.argv[1], "w", encoding="utf-8") as out:
    for function, gradient in ROWS{rows}:
        out.write(f"{{function}} {{gradient}} {value}\\n")
'''


def made_up_gradcheck(folder, value="1.0e-11", rows=""):
    """gradcheck.py that writes a table without measuring anything."""
    (folder / "gradcheck_real.py").write_text(
        (folder / "gradcheck.py").read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "gradcheck.py").write_text(
        MADE_UP.replace("from gradcheck", "from gradcheck_real").format(value=value, rows=rows),
        encoding="utf-8")


def test_gradcheck_of_the_reference_matches_the_graders_measurement(tmp_path):
    done = gradcheck_result(copy_reference(LAB, tmp_path / LAB))
    assert done.status == "done" and done.points == done.max_points > 0, done.message
    assert "matches the grader's measurement of your functions on all 20 gradients" in done.message
    pt = gradcheck_result(copy_reference(LAB, tmp_path / "pt"), lang="pt")
    assert pt.message.startswith("gradcheck.txt bate com a medição"), pt.message


@pytest.mark.parametrize("case_name", ["gradient_into_masked", "softmax_no_sum_term",
                                       "backward_scale_missing", "dw_transposed",
                                       "db_first_axis", "layer_norm_no_statistics"])
def test_an_honest_table_of_a_wrong_backward_earns_the_points(tmp_path, case_name):
    """The table shows the wrong gradients (the tests of that function fail): its rows
    and the grader's are both above 1e-5, within a factor of 30 of each other (measured:
    10 at most), well inside MAX_FACTOR."""
    submission = copy_reference(LAB, tmp_path / LAB)
    for path in (CORPUS / LAB / case_name).glob("*.py"):
        shutil.copy(path, submission / path.name)
    done = gradcheck_result(submission)
    assert done.status == "done", done.message
    rows = parse_table((submission / "gradcheck.txt").read_text(encoding="utf-8"))
    lab = load_lab(LAB)
    spec = next(d for d in lab.deliverables if d.id == "gradcheck")
    measured = run_script(spec, submission, Limits(time_limit=10), lab).measured
    wrong = [(rows[r], m) for r, m in measured.items() if m >= AGREE_BELOW]
    assert wrong
    for table, grader in wrong:
        assert table >= AGREE_BELOW
        assert np.isinf(table) and np.isinf(grader) or max(table, grader) < 30 * min(table, grader)


def test_a_made_up_table_earns_nothing(tmp_path):
    submission = copy_reference(LAB, tmp_path / LAB)
    for path in (CORPUS / LAB / "gradient_into_masked").glob("*.py"):
        shutil.copy(path, submission / path.name)
    made_up_gradcheck(submission)  # every row 1e-11: a wrong attention backward measured right
    failed = gradcheck_result(submission)
    assert failed.status == "failed" and failed.points == 0
    assert failed.message.startswith("gradcheck.txt does not match the grader's measurement")
    assert "attention_backward dk yours 1.0e-11, the grader's" in failed.message, failed.message

    right = copy_reference(LAB, tmp_path / "right")
    made_up_gradcheck(right, value="0.5")  # a right backward made to look wrong
    assert gradcheck_result(right).status == "failed"
    made_up_gradcheck(right, value="nan")
    assert gradcheck_result(right).status == "failed"


def test_a_table_with_rows_missing_earns_nothing(tmp_path):
    submission = copy_reference(LAB, tmp_path / LAB)
    made_up_gradcheck(submission, rows="[:11]")  # no MHA rows
    missing = gradcheck_result(submission)
    assert missing.status == "incomplete" and missing.points == 0
    assert missing.message.startswith("gradcheck.txt has no row for mha_backward dx_q"), missing.message


def test_gradcheck_that_writes_nothing_or_garbage_earns_nothing(tmp_path):
    submission = copy_reference(LAB, tmp_path / LAB)
    (submission / "gradcheck.py").write_text("print('all good')\n", encoding="utf-8")
    nothing = gradcheck_result(submission)
    assert nothing.status == "incomplete" and "wrote no gradcheck.txt" in nothing.message
    (submission / "gradcheck.py").write_text(
        "import sys\nopen(sys.argv[1], 'wb').write(bytes(range(256)) * 10)\n", encoding="utf-8")
    garbage = gradcheck_result(submission)
    assert garbage.status == "failed" and "is not a text table" in garbage.message


def test_a_huge_gradcheck_table_is_refused_unread(tmp_path):
    """A table of 63 MiB of b"ab\\n" once cost the grader 1.8 GB (all of it split into lines):
    now more than 64 KiB is refused before it is decoded (here 1 MiB, the same verdict)."""
    submission = copy_reference(LAB, tmp_path / LAB)
    (submission / "gradcheck.py").write_text(
        "import sys\nopen(sys.argv[1], 'wb').write(b'ab\\n' * 350_000)\n", encoding="utf-8")
    huge = gradcheck_result(submission)
    assert (huge.status, huge.points) == ("failed", 0)
    assert huge.message == (
        "gradcheck.txt is larger than 64 KiB: write only the table, one row a line"), huge.message
    assert parse_table("ab\n" * 350_000) == {}


def test_the_gradcheck_stub_earns_nothing(stubs):
    stub = gradcheck_result(stubs(LAB))
    assert stub.status == "failed" and "NotImplementedError" in stub.message, stub.message


PATCHING_GRADCHECK = """
import sys
import numpy as np
import backward, forward, loss
from gradcheck_real import ROWS

z = np.zeros_like
forward.scaled_dot_product_attention = lambda q, k, v, mask=None: (
    np.zeros(q.shape[:-1] + v.shape[-1:]), np.zeros(q.shape[:-1] + k.shape[-2:-1]))
forward.linear = lambda x, w, b: np.zeros(x.shape[:-1] + w.shape[1:])
forward.layer_norm = lambda x, gamma, beta, eps=1e-5: z(x)
loss.cross_entropy = lambda logits, targets: (np.zeros(()), z(logits))
backward.attention_backward = lambda dout, q, k, v, mask=None: (z(q), z(k), z(v))
backward.linear_backward = lambda dout, x, w: (z(x), z(w), np.zeros(w.shape[1]))
backward.layer_norm_backward = lambda dout, x, gamma, eps=1e-5: (z(x), z(gamma), z(gamma))
forward.mha_forward = lambda x_q, x_kv, params, num_heads, mask=None: (
    z(x_q), np.zeros((x_q.shape[0], num_heads, x_q.shape[1], x_kv.shape[1])))
backward.mha_backward = lambda dout, x_q, x_kv, params, num_heads, mask=None: (
    z(x_q), z(x_kv), *(z(params[n]) for n in ("w_q", "b_q", "w_k", "b_k", "w_v", "b_v", "w_o", "b_o")))
with open(sys.argv[1], "w", encoding="utf-8") as out:
    out.write("".join(f"{f} {g} 1e-11\\n" for f, g in ROWS))
"""


def test_a_gradcheck_that_patches_the_functions_it_is_measured_on_earns_nothing(stubs):
    """The grader measures in processes the script never ran in: a gradcheck.py that
    replaces forward.* and backward.* with functions of zeros (the grader's own calls
    used to run after it, in its interpreter) does not make the stub's backward right."""
    submission = stubs(LAB)
    made_up_gradcheck(submission)
    (submission / "gradcheck.py").write_text(PATCHING_GRADCHECK, encoding="utf-8")
    faked = gradcheck_result(submission)
    assert faked.status == "failed" and faked.points == 0, faked.message
    assert faked.message.startswith(
        "the grader could not measure attention_backward dq, attention_backward dk"), faked.message
    assert faked.message.endswith(
        "(and 14 more): attention_backward: NotImplementedError: attention_backward: your code "
        "here"), faked.message


def test_a_right_backward_next_to_a_wrong_forward_keeps_its_points_and_is_told(lab, tmp_path):
    """A backward that computes its own weights (cache_based) is the reference's gradient,
    while the forward divides by d_k: the test passes, and says the forward differs."""
    submission = copy_reference(LAB, tmp_path / LAB)
    shutil.copy(CORPUS / LAB / "cache_based" / "backward.py", submission / "backward.py")
    shutil.copy(CORPUS / LAB / "consistent_scale_over_dk" / "forward.py", submission / "forward.py")
    t = graded_gradient_tests(lab, submission)["attention_backward_gradient"]
    assert t.status == "passed" and t.points == t.max_points
    assert t.message.startswith("right: it is the reference's gradient. But it does not match "
                                "the numerical gradient of your own scaled_dot_product_attention "
                                "(dq, dk, dv off by up to"), t.message


def test_a_gradient_table_that_does_not_fit_its_test_is_a_lab_spec_error(lab):
    test = next(t for t in lab.tests if t.name == "mha_backward_gradient")
    wrt = list(test.options["wrt"])
    for bad in ({"forward": ""}, {"output": 2}, {"wrt": wrt[:3]}, {"directions": 0},
                {"wrt": [*wrt[:-1], "params.b_z"]}, {"forward_args": ["x_q", "nothing"]}):
        broken = dataclasses.replace(test, options={**test.options, **bad})
        with pytest.raises(LabSpecError, match="mha_backward_gradient"):
            gradient_calls(lab, cases.test_case(lab, broken, 1))
