"""Lab 06 (train a tiny attention language model): the training test kind and its promises
(shared checks: test_labs.py; wrong and correct submissions: corpus/lab06).

- the student's process gets the training lines and never the held-out ones;
- the trained parameters are judged with the reference's forward, after the process is gone;
- a loop that never updates earns no training point, an MLP that sees the token it
  predicts voids the comparison, a model whose forward sees the future fails;
- anything malformed the training returns is the student's verdict;
- the reference's training is deterministic given the seed and clears every threshold;
- REPORT.md (a)'s numbers are the run's: train.py prints what the grader measures, and
  numbers made up, missing or not checkable earn nothing.
"""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest
from attn_grade import cases
from attn_grade.checks.training import mean_loss, read_lines, training_call, training_options
from attn_grade.expected import call_reference
from attn_grade.grading import grade
from attn_grade.labspec import load_lab
from attn_grade.reference import find_solutions, load_reference
from attn_grade.release import build_release
from conftest import CORPUS, SOLUTIONS, committed, copy_reference

LAB = "lab06"
TRAINING = "training_attention_vs_mlp"


@pytest.fixture(scope="module")
def lab():
    return load_lab(LAB)


@pytest.fixture(scope="module")
def ref(lab):
    return load_reference(lab, find_solutions(lab))


@pytest.fixture(scope="module")
def case(lab):
    return cases.test_case(lab, next(t for t in lab.tests if t.name == TRAINING), 1)


def _training(result):
    return next(t for t in result.tests if t.name == TRAINING)


def _graded_with(tmp_path, files: dict[str, str], seed: int = 1):
    """The reference with some modules replaced, graded without deliverables."""
    folder = copy_reference(LAB, tmp_path / LAB)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return grade(LAB, folder, seed=seed, deliverables=False)


def test_the_student_process_gets_the_training_lines_only(lab, ref, case):
    call = training_call(lab, case)
    options = training_options(lab, case)
    heldout = read_lines(ref.folder / options.heldout, options.vocab, options.line_start)
    data = call.args[0]
    assert data.shape == (2000, 12) and data.dtype == np.int64
    np.testing.assert_array_equal(data, read_lines(lab.spec_dir / "corpus.txt", options.vocab, "."))
    sent = [a for a in call.args + list(call.kwargs.values()) if isinstance(a, np.ndarray)]
    assert all(a.shape != heldout.shape for a in sent)
    assert (ref.folder / options.heldout).is_file() and not (lab.spec_dir / options.heldout).exists()


def test_the_corpus_is_one_file_in_three_places_and_corpus_py_writes_it(lab, tmp_path):
    shipped = (lab.spec_dir / "corpus.txt").read_text(encoding="utf-8")
    assert (SOLUTIONS / LAB / "corpus.txt").read_text(encoding="utf-8") == shipped
    assert committed(f"exercises/{LAB}/corpus.txt") == shipped
    import subprocess
    import sys

    subprocess.run([sys.executable, "corpus.py", "--write", str(tmp_path / "c.txt")],
                   cwd=SOLUTIONS / LAB, check=True, capture_output=True)
    assert (tmp_path / "c.txt").read_text(encoding="utf-8") == shipped


def test_training_is_deterministic_given_the_seed(lab, ref, case):
    """Same seed, same histories and parameters (up to rounding); another seed, others."""
    data = training_call(lab, case).args[0]
    args = {k: v for k, v in case.args.items() if k != "secret"}  # the grader's, never sent
    with_data = cases.Case(case.key, case.function, {**args, "data": data, "steps": 40}, case.test)
    first = call_reference(ref.function("train_both"), with_data)
    again = call_reference(ref.function("train_both"), with_data)
    for a, b in zip(first, again):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    other = call_reference(ref.function("train_both"), cases.Case(
        case.key, case.function, {**with_data.args, "seed": 2}, case.test))
    assert not np.allclose(first[0], other[0])


def test_the_reference_clears_every_threshold_with_margin(lab, tmp_path):
    result = grade(LAB, copy_reference(LAB, tmp_path / LAB), seed=4, deliverables=False)
    training = _training(result)
    assert (training.status, training.points, training.diagnosis) == ("passed", 6.0, None)
    assert "held-out loss" in training.message and "met:" in training.message


def test_a_loop_that_never_updates_earns_no_training_point(tmp_path):
    result = _graded_with(tmp_path, {"train.py": (CORPUS / LAB / "train_never_updates" /
                                                  "train.py").read_text(encoding="utf-8")})
    training = _training(result)
    assert (training.points, training.diagnosis) == (0.0, "training-never-updates")
    assert training.hint and "adam_step" in training.hint


def test_an_mlp_that_sees_the_future_voids_the_comparison(tmp_path):
    result = _graded_with(tmp_path, {"bengio.py": (CORPUS / LAB / "mlp_sees_future" /
                                                   "bengio.py").read_text(encoding="utf-8")})
    training = _training(result)
    # the attention model still learns and clears its threshold; the comparison is void
    assert (training.status, training.points, training.diagnosis) == ("failed", 4.0, "mlp-sees-future")
    assert "your MLP's history ends at" in training.message
    named = {t.name: t.diagnosis for t in result.tests if t.status != "passed"}
    assert named["contexts_window_3"] == "mlp-sees-future"


def test_a_wrong_forward_cannot_fake_a_low_loss(tmp_path):
    """No causal mask: the student's own loss reaches 0, the reference's forward on the
    same parameters says otherwise."""
    result = _graded_with(tmp_path, {"attention_lm.py": (
        CORPUS / LAB / "attention_sees_future" / "attention_lm.py").read_text(encoding="utf-8")})
    training = _training(result)
    assert (training.points, training.diagnosis) == (0.0, "attention-sees-future")


BAD_RETURNS = {
    "a short history": ("lm_history, ", "lm_history[:10], ", "lm_history: expected shape (300,)"),
    "a missing parameter": ("*(lm[n] for n in LM_PARAM_NAMES)",
                            "*(lm[n] for n in LM_PARAM_NAMES[:-1])", "returned a tuple of 18"),
    "NaN parameters": ("*(mlp[n] for n in MLP_PARAM_NAMES))",
                       "*(mlp[n] * np.nan for n in MLP_PARAM_NAMES))", "diverged"),
    "a transposed table": ("*(lm[n] for n in LM_PARAM_NAMES)",
                           "*(lm[n].T for n in LM_PARAM_NAMES)", "lm.token_table: expected shape"),
}


@pytest.mark.parametrize("what", list(BAD_RETURNS))
def test_malformed_training_results_are_the_students_verdict(what, tmp_path):
    old, new, message = BAD_RETURNS[what]
    source = (SOLUTIONS / LAB / "train.py").read_text(encoding="utf-8")
    assert old in source
    folder = copy_reference(LAB, tmp_path / LAB)
    (folder / "train.py").write_text(source.replace(old, new, 1), encoding="utf-8")
    result = grade(LAB, folder, seed=1, deliverables=False, only=[TRAINING])
    training = _training(result)
    assert training.status in ("failed", "error") and training.points == 0.0
    assert message in training.message, training.message


def test_held_out_loss_of_a_uniform_model_is_log_v(lab, ref, case):
    """The judge's loss, on parameters that predict nothing: log(10) exactly."""
    options = training_options(lab, case)
    rows = read_lines(lab.spec_dir / options.data, options.vocab, options.line_start)[:50]
    params = {"C": np.zeros((10, 2)), "W1": np.zeros((6, 4)), "b1": np.zeros(4),
              "W2": np.zeros((4, 10)), "b2": np.zeros(10)}
    assert mean_loss(ref.function("mlp_forward"), params, rows) == pytest.approx(np.log(10))
    assert np.isnan(mean_loss(ref.function("mlp_forward"), {"C": np.zeros(3)}, rows))


def test_the_student_kit_ships_the_corpus_and_never_the_held_out_lines(lab, tmp_path):
    files = build_release(tmp_path / "kit", [lab], {LAB: SOLUTIONS / LAB})
    names = {p.relative_to(tmp_path / "kit").as_posix() for p in files}
    assert f"exercises/{LAB}/corpus.txt" in names
    assert not [n for n in names if n.endswith("heldout.txt")]
    shutil.rmtree(tmp_path / "kit")


def test_a_training_test_must_be_hidden(lab, case):
    """Public tests run on a student kit's frozen data, where no reference forward exists."""
    import dataclasses

    from attn_grade.errors import LabSpecError

    public = dataclasses.replace(case, test=dataclasses.replace(case.test, visibility="public"))
    with pytest.raises(LabSpecError, match="must be hidden"):
        training_options(lab, public)


def test_the_gradescope_bundle_holds_the_held_out_lines_and_the_wheel_the_corpus(tmp_path):
    import subprocess
    import sys
    import zipfile

    target = tmp_path / "autograder.zip"
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "gradescope", LAB, "-o", str(target)],
        capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(target) as bundle:
        names = bundle.namelist()
        assert f"solutions/{LAB}/heldout.txt" in names
        wheel = next(n for n in names if n.endswith(".whl"))
        (tmp_path / "kit.whl").write_bytes(bundle.read(wheel))
    with zipfile.ZipFile(tmp_path / "kit.whl") as kit:
        assert f"attn_grade/labs/{LAB}/corpus.txt" in kit.namelist()


def _error_over_tolerance(got, want, test) -> float:
    """max |got - want| / (atol * max(1, max |want|) + rtol |want|): above 1 fails."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return np.inf
    scale = max(1.0, float(np.abs(want).max(initial=0.0)))
    with np.errstate(all="ignore"):
        ratio = np.abs(got - want) / (test.atol * scale + test.rtol * np.abs(want))
    return float(np.max(np.where(np.isnan(got) != np.isnan(want), np.inf, ratio), initial=0.0))


def test_tolerances_separate_correct_variants_from_known_mistakes(lab, ref, tmp_path):
    """Over seeds 0-30, the correct variants of the corpus (Adam's efficient form, loops and
    einsum) stay within 1/10 of the tolerance, and every known mistake, where a test sees
    it, is off by more than 1000 times it (lab.toml records the measured 1/50 and 7000)."""
    folder = copy_reference(LAB, tmp_path / "variants")
    shutil.copy(SOLUTIONS / LAB / "known_mistakes.py", folder)
    for variant in ("adam_efficient_form", "contexts_loops"):
        for path in (CORPUS / LAB / variant).glob("*.py"):
            shutil.copy(path, folder / path.name)
    other = load_reference(lab, folder)
    worst, nearest = 0.0, np.inf
    for seed in range(31):
        for test in (t for t in lab.tests if t.kind == "values"):
            case_ = cases.test_case(lab, test, seed)
            want = call_reference(ref.function(test.function), case_)
            got = call_reference(other.function(test.function), case_)
            worst = max(worst, *(_error_over_tolerance(g, w, test) for g, w in zip(got, want)))
            for _, name in lab.mistakes_for(test.function):
                out = call_reference(ref.variants[name], case_)
                off = max(_error_over_tolerance(g, w, test) for g, w in zip(out, want))
                if off > 1:
                    nearest = min(nearest, off)
    print(f"correct variants: {worst:.3g} of the tolerance; nearest mistake: {nearest:.3g} times it")
    assert worst < 0.1 and nearest > 1000


@pytest.mark.skipif(os.geteuid() != 0, reason="needs the grader to run as root (sandbox uids)")
def test_as_root_the_students_training_cannot_read_the_held_out_lines(tmp_path):
    """The held-out lines sit with the reference, which a sandboxed submission cannot read:
    a train_both that finds them says so in its error, and it never does."""
    held_out = SOLUTIONS / LAB / "heldout.txt"
    source = (SOLUTIONS / LAB / "train.py").read_text(encoding="utf-8")
    spy = f'''
def train_both(data, steps, lr, seed, vocab_size):
    try:
        with open({str(held_out)!r}, encoding="utf-8") as f:
            f.read()
    except OSError as exc:
        raise RuntimeError(f"held-out lines not readable: {{type(exc).__name__}}") from None
    raise RuntimeError("held-out lines READ")
'''
    result = _graded_with(tmp_path, {"train.py": source + spy})
    training = _training(result)
    assert training.points == 0.0
    assert "held-out lines not readable" in training.message, training.message


# ------------------------------------------------------------ REPORT.md's numbers
NUMBERS = "numbers-match-the-run"


def _numbers(result):
    return next(d for d in result.deliverables if d.id == NUMBERS)


def _report_with(folder, lines: str, name: str = "REPORT.md") -> None:
    """The reference's report, its two number lines replaced by `lines`."""
    text = (folder / name).read_text(encoding="utf-8")
    start = text.index("Attention held-out loss:") if name == "REPORT.md" else text.index("Perda da")
    end = text.index("\n\n", start)
    (folder / name).write_text(text[:start] + lines + text[end:], encoding="utf-8")


def test_train_py_prints_the_numbers_the_grader_measures(tmp_path):
    """`python train.py` as shipped is the grader's run: the lines it prints are the ones
    the deliverable reads, and they agree with the grader's measurement of the same code
    (the held-out lines differ) far within the tolerance; the reference's REPORT.md quotes
    them and earns the points, in either language."""
    import subprocess
    import sys

    from attn_grade.deliverables import _quoted_numbers

    folder = copy_reference(LAB, tmp_path / LAB)
    printed = subprocess.run([sys.executable, "train.py"], cwd=folder, capture_output=True,
                             text=True, timeout=120, check=True).stdout
    spec = next(d for d in load_lab(LAB).deliverables if d.id == NUMBERS)
    quoted = _quoted_numbers(printed, spec.options["numbers"])
    result = grade(LAB, folder, seed=1)
    measured = _training(result).outcome
    assert quoted.keys() == measured.keys() == {"attention", "MLP"}
    tolerance = spec.options["tolerance"]
    assert all(abs(quoted[k] - measured[k]) <= tolerance / 3 for k in quoted), (quoted, measured)
    assert _numbers(result).status == "done", _numbers(result).message
    # the reference's Portuguese report, the English one a template: the same points
    (folder / "REPORT.md").write_text(committed(f"exercises/{LAB}/REPORT.md"), encoding="utf-8")
    result = grade(LAB, folder, seed=1, lang="pt")
    assert _numbers(result).status == "done", _numbers(result).message
    assert "REPORT.pt-BR.md (a): Perda da atenção em texto separado 0.962" in _numbers(result).message


def test_made_up_numbers_earn_nothing(tmp_path):
    """Numbers that are not the run's fail with the grader's own: made up for right code,
    or the reference's copied by a loop that never trains."""
    folder = copy_reference(LAB, tmp_path / LAB)
    _report_with(folder, "Attention held-out loss: 0.80\nMLP held-out loss: 2.14")
    made_up = _numbers(grade(LAB, folder, seed=1))
    assert made_up.status == "failed" and made_up.points == 0, made_up
    assert "the grader's run of your code gives Attention held-out loss 0.96" in made_up.message
    assert "MLP held-out loss 2" not in made_up.message.split("gives")[1]  # that one matched
    shutil.copy(CORPUS / LAB / "train_never_updates" / "train.py", folder / "train.py")
    _report_with(folder, "Attention held-out loss: 0.962\nMLP held-out loss: 2,138")
    copied = _numbers(grade(LAB, folder, seed=1))
    assert copied.status == "failed" and copied.points == 0, copied
    assert "Attention held-out loss 2.3" in copied.message, copied.message


def test_numbers_missing_or_unverifiable_earn_nothing(tmp_path):
    """One line only: incomplete, naming the missing line. Without the reference (a
    student's own check: the training test is hidden) the numbers cannot be checked."""
    folder = copy_reference(LAB, tmp_path / LAB)
    _report_with(folder, "Attention held-out loss: 0.962")
    one = _numbers(grade(LAB, folder, seed=1))
    assert one.status == "incomplete" and '"MLP held-out loss: N.NN"' in one.message, one
    (folder / "REPORT.md").write_text(committed(f"exercises/{LAB}/REPORT.md"), encoding="utf-8")
    _report_with(folder, "Perda da atenção em texto separado: 0,962", "REPORT.pt-BR.md")
    um = _numbers(grade(LAB, folder, seed=1, lang="pt"))
    assert um.status == "incomplete" and '"Perda do MLP em texto separado: N,NN"' in um.message, um
    shutil.copy(SOLUTIONS / LAB / "REPORT.md", folder / "REPORT.md")
    _report_with(folder, "Attention held-out loss: 0.962\nMLP held-out loss: 2.138")
    local = _numbers(grade(LAB, folder, hidden=False))
    assert local.status == "incomplete" and local.points == 0, local
    assert "which did not run here" in local.message


# ------------------------------------------------------------ unearned training points
# The graded run trains on corpus.txt with a secret substitution of the echoed half, drawn
# from the run's seed; the public run (corpus.txt itself) is repeated for determinism.

def _train_both_replaced(tmp_path, body: str, files: dict | None = None):
    """The reference with a train_both of `body` appended (it replaces the real one)."""
    source = (SOLUTIONS / LAB / "train.py").read_text(encoding="utf-8")
    folder = copy_reference(LAB, tmp_path / LAB)
    (folder / "train.py").write_text(source + "\n\n" + body, encoding="utf-8")
    for name, write in (files or {}).items():
        write(folder / name)
    training = _training(grade(LAB, folder, seed=1, deliverables=False, only=[TRAINING]))
    return training


def test_the_graded_run_gets_the_corpus_with_a_secret_substitution(lab, case):
    from attn_grade.checks.training import training_calls

    public = training_call(lab, case).args[0]
    secret, again = training_calls(lab, case)
    assert [len(c.args) for c in (secret, again)] == [5, 5] and not secret.kwargs
    np.testing.assert_array_equal(again.args[0], public)
    changed = secret.args[0] != public  # (N, 12): only after the bar, every letter moved
    assert not changed[:, :7].any() and changed[:, 7:].all()
    other = training_calls(lab, cases.test_case(lab, case.test, 2))[0].args[0]
    assert (other != secret.args[0]).any()  # another run, another substitution


def test_stored_parameters_of_the_public_task_earn_nothing(ref, lab, case, tmp_path):
    """Parameters trained offline on corpus.txt, a made-up history, an MLP sabotaged:
    6/6 before; now they predict the unsubstituted letters: 0."""
    out = call_reference(ref.function("train_both"), cases.Case(
        case.key, case.function, {**{k: v for k, v in case.args.items() if k != "secret"},
                                  "data": training_call(lab, case).args[0]}, case.test))
    weights = dict(zip(case.function.outputs, out))
    body = '''
def train_both(data, steps, lr, seed, vocab_size):
    import os
    from bengio import mlp_init_params
    stored = np.load(os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights.npz"))
    lm = {n: stored["lm." + n] for n in LM_PARAM_NAMES}
    mlp = mlp_init_params(vocab_size, seed)
    mlp["b2"] = np.zeros(vocab_size); mlp["b2"][0] = 30.0
    return (np.linspace(2.3, 0.97, steps), *(lm[n] for n in LM_PARAM_NAMES),
            np.full(steps, 30.0), *(mlp[n] for n in MLP_PARAM_NAMES))
'''
    training = _train_both_replaced(tmp_path, body, {"weights.npz": lambda p: np.savez(
        p, **{k: v for k, v in weights.items() if k.startswith("lm.")})})
    # not diagnosed as a forward that sees the future: the public run's history is honest
    assert (training.status, training.points, training.diagnosis) == ("failed", 0.0, None)
    assert "your MLP's history starts at 30.000" in training.message
    assert "your attention's history ends at 0.990" in training.message


def test_count_based_parameters_without_training_earn_nothing(tmp_path):
    """No gradient, no Adam: per-position counts and a constant history: 4/6 before."""
    body = '''
def train_both(data, steps, lr, seed, vocab_size):
    from attention_lm import lm_init_params
    from bengio import mlp_init_params
    lm = {k: np.zeros_like(v) for k, v in lm_init_params(vocab_size, seed).items()}
    T = data.shape[1] - 1
    lm["position_table"][:T, :T] = np.eye(T)
    counts = np.ones((T, vocab_size))
    for t in range(T):
        counts[t] += np.bincount(data[:, t + 1], minlength=vocab_size)
    lm["w_out"][:T, :] = np.log(counts / counts.sum(axis=1, keepdims=True))
    mlp = mlp_init_params(vocab_size, seed)
    mlp["b2"] = np.zeros(vocab_size); mlp["b2"][0] = 30.0
    return (np.full(steps, 1.9), *(lm[n] for n in LM_PARAM_NAMES),
            np.full(steps, 30.0), *(mlp[n] for n in MLP_PARAM_NAMES))
'''
    training = _train_both_replaced(tmp_path, body)
    assert (training.status, training.points, training.diagnosis) == ("failed", 0.0, None)
    assert "your attention's history starts at 1.900" in training.message


def test_a_longer_training_cut_to_the_budget_earns_nothing(tmp_path):
    """4x the steps at 2x the lr, the last `steps` losses returned: 6/6 before."""
    body = '''
_fair_train_both = train_both


def train_both(data, steps, lr, seed, vocab_size):
    out = _fair_train_both(data, 4 * steps, 2 * lr, seed, vocab_size)
    n = 1 + len(LM_PARAM_NAMES)
    return (out[0][-steps:], *out[1:n], out[n][-steps:], *out[n + 1:])
'''
    training = _train_both_replaced(tmp_path, body)
    assert (training.status, training.points, training.diagnosis) == ("failed", 0.0, None)
    assert "your attention's history starts at 0.9" in training.message


def test_an_untrained_mlp_gives_the_attention_no_comparison_point(tmp_path):
    """The attention trained, the MLP left at its initial parameters (an honest history
    of its loss): learns and below, never beats."""
    body = '''
def train_both(data, steps, lr, seed, vocab_size):
    from bengio import mlp_init_params
    lm, lm_history = train(ATTENTION_LM, data, steps, lr, seed, vocab_size)
    mlp = mlp_init_params(vocab_size, seed)
    loss = MLP.loss_and_grads(mlp, data[:, :-1], data[:, 1:])[0]
    return (lm_history, *(lm[n] for n in LM_PARAM_NAMES),
            np.full(steps, loss), *(mlp[n] for n in MLP_PARAM_NAMES))
'''
    training = _train_both_replaced(tmp_path, body)
    assert (training.status, training.points, training.diagnosis) == ("failed", 4.0, None)
    assert "below a trained MLP (its loss at most 2.22)" in training.message.split("not met:")[1]


def test_a_nan_history_is_not_the_training(tmp_path):
    body = '''
_fair_train_both = train_both


def train_both(data, steps, lr, seed, vocab_size):
    out = list(_fair_train_both(data, steps, lr, seed, vocab_size))
    out[0] = np.full(steps, np.nan)
    return tuple(out)
'''
    training = _train_both_replaced(tmp_path, body)
    assert (training.status, training.points, training.diagnosis) == ("failed", 0.0, None)
    assert "your attention's history holds NaN or inf" in training.message


def test_a_training_on_the_global_random_state_is_not_deterministic(tmp_path):
    """Batches from np.random.randint (the handout forbids it): it trains, but two runs
    with the same seed differ: the test fails, naming why."""
    source = (SOLUTIONS / LAB / "train.py").read_text(encoding="utf-8")
    old = "data[rng.integers(0, len(data), size=batch_size)]"
    assert old in source
    folder = copy_reference(LAB, tmp_path / LAB)
    (folder / "train.py").write_text(
        source.replace(old, "data[np.random.randint(0, len(data), size=batch_size)]"),
        encoding="utf-8")
    result = grade(LAB, folder, seed=1)
    training = _training(result)
    assert (training.status, training.points, training.diagnosis) == (
        "failed", 0.0, "training-not-deterministic")
    item = next(i for i in result.checklist if "deterministic given the seed" in i.text)
    assert item.status == "not-verified", item
    assert "two runs of train_both with the same arguments gave different results" in \
        training.message
    pt = _training(grade(LAB, folder, seed=1, deliverables=False, only=[TRAINING], lang="pt"))
    assert "np.random.default_rng(seed)" in pt.message


# ------------------------------------------------------------ the kit's scripts
def _run(folder, *argv):
    import subprocess
    import sys

    return subprocess.run([sys.executable, *argv], cwd=folder, capture_output=True, text=True,
                          timeout=120)


def test_from_lab05_checks_every_pasted_piece(tmp_path):
    """The reference passes each of the six pieces; a wrong one says WRONG, a raising one
    says so, and the others are still checked; the stub says what is not pasted yet."""
    folder = copy_reference(LAB, tmp_path / LAB)
    pieces = ("scaled_dot_product_attention", "softmax_backward", "attention_backward",
              "linear_backward", "mha_backward", "cross_entropy")
    done = _run(folder, "from_lab05.py")
    assert done.returncode == 0 and not done.stderr, done.stderr
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == list(pieces)
    assert done.stdout.count(" ok\n") == 6, done.stdout
    source = (folder / "from_lab05.py").read_text(encoding="utf-8")
    source = source.replace("return dq, dk, dv\n", "return dq, dk, 2 * dv\n", 1)
    source = source.replace("loss = -np.sum(picked) / targets.size", "loss = picked[7]", 1)
    (folder / "from_lab05.py").write_text(source, encoding="utf-8")
    wrong = _run(folder, "from_lab05.py").stdout
    assert "attention_backward: largest error" in wrong and "WRONG" in wrong, wrong
    assert "cross_entropy: raised IndexError" in wrong and "mha_backward" in wrong, wrong
    stub = tmp_path / "stub" / "from_lab05.py"
    stub.parent.mkdir()
    stub.write_text(committed(f"exercises/{LAB}/from_lab05.py"), encoding="utf-8")
    assert _run(stub.parent, "from_lab05.py").stdout.count("not pasted yet") == 6


@pytest.mark.parametrize("argv, error", [
    (["--steps", "0"], "--steps must be at least 1, got 0"),
    (["--steps", "-3"], "--steps must be at least 1, got -3"),
    (["--lr", "0"], "--lr must be positive, got 0.0"),
])
def test_train_py_refuses_a_budget_it_cannot_train_in_one_line(argv, error, tmp_path):
    folder = copy_reference(LAB, tmp_path / LAB)
    done = _run(folder, "train.py", *argv)
    assert done.returncode == 2 and done.stderr.strip().splitlines()[-1].endswith(error)
    assert "Traceback" not in done.stderr and "Warning" not in done.stderr


def test_train_py_measures_the_held_out_loss_in_batches(ref, tmp_path):
    """The given mean_loss: batches of 256 rows give the one-batch value (a long --text
    no longer needs its whole held-out split's logits at once)."""
    import sys

    sys.path.insert(0, str(SOLUTIONS / LAB))
    try:
        import train as given
    finally:
        sys.path.remove(str(SOLUTIONS / LAB))
    rows = np.random.default_rng(0).integers(0, 10, size=(700, 12))
    params = {"C": np.random.default_rng(1).normal(size=(10, 8)),
              "W1": np.random.default_rng(2).normal(size=(24, 6)), "b1": np.zeros(6),
              "W2": np.random.default_rng(3).normal(size=(6, 10)), "b2": np.zeros(10)}
    forward = ref.function("mlp_forward")
    assert given.mean_loss(forward, params, rows) == pytest.approx(
        mean_loss(forward, params, rows), rel=1e-12)


def test_the_example_sentence_token_ids_are_int64_as_the_spec_says(lab):
    from attn_grade.stubs import example_module

    source = example_module(lab)
    assert 'TOKEN_IDS = np.array([[0, 4, 3, 9, 2, 5, 1, 4, 3, 9, 2]], dtype="int64")' in source
    assert committed(f"exercises/{LAB}/example_sentence.py") == source
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 - the kit's own generated file
    assert namespace["TOKEN_IDS"].dtype == np.int64


def test_the_held_out_lines_come_from_no_seed_a_student_can_guess():
    """heldout.txt was once corpus.echo_lines(400, 6): now from a seed recorded nowhere.
    Neither a shipped seed nor any small one gives its first lines (the first rows of
    echo_lines do not depend on the count)."""
    import sys

    sys.path.insert(0, str(SOLUTIONS / LAB))
    try:
        import corpus
    finally:
        sys.path.remove(str(SOLUTIONS / LAB))
    lines = (SOLUTIONS / LAB / "heldout.txt").read_text(encoding="utf-8").split()
    assert len(lines) == 400 and all(len(line) == 11 and line[5] == "|" for line in lines)
    shipped = {corpus.CORPUS_SEED, corpus.CHECK_SEED, 6}
    assert not [s for s in shipped | set(range(5000)) if corpus.echo_lines(3, s) == lines[:3]]
