"""Training tests: does the student's training loop train a model that beats a baseline?

A lab declares one as a test of kind "training" (labspec.TEST_KINDS):

    [[tests]]
    name = "training_attention_vs_mlp"
    kind = "training"
    function = "train_both"            # (data, steps, ...) -> histories and parameters
    args.steps = { value = 300 }       # the budget, and any other argument, as usual
    [tests.training]
    data = "corpus.txt"                # in the lab spec's folder: lines of text, sent as `data`
    heldout = "heldout.txt"            # in the reference's folder: never sent to the student
    vocab = ".|abcdefgh"               # token i is vocab[i]
    line_start = "."                   # put in front of every line
    model = { forward = "lm_forward", history = "lm_history", prefix = "lm.", name = "attention",
              name_pt = "modelo de atenção", mismatch = "attention-sees-future" }
    baseline = { forward = "mlp_forward", history = "mlp_history", prefix = "mlp.", name = "MLP",
                 mismatch = "mlp-sees-future" }
    min_drop = 0.1                     # learns: held-out loss below log(V) by this much
    max_loss = 1.2                     # below: the model's held-out loss at most this
    min_margin = 0.6                   # beats: the baseline's held-out loss minus the model's
    max_history_gap = 0.3              # a history this far from its parameters' loss is not theirs
    max_start_gap = 0.3                # a history starts this close to log(V) (untrained)
    baseline_max_loss = 2.22           # beats: only a baseline trained at least this far
    substitute = { letters = "abcdefgh", after = "|", key = "secret" }   # the graded task
    credit = { learns = 2, below = 2, beats = 2 }   # points of each outcome; they sum to points
    hint = "..."                       # shown when the model did not learn at all
    hint_pt = "..."

A training test is hidden: it runs only where the reference is (its forward judges, its
folder holds the held-out lines), never on a student kit's frozen data. `key` names an
argument of the test (e.g. `args.secret = { integers = [4], ... }`, drawn from the run's
seed) that picks the substitution; it is never sent to the student's process.

The student's process gets training rows (never the held-out ones) three times, one call
each (training_calls; grading.py adds them):
- the graded run: the data with a derangement of `letters` applied after the first
  `after` of each line (for lab06, the echoed half goes through a secret letter
  substitution). Parameters trained beforehand, or made by hand, for the public data
  predict the unsubstituted letters: a model must learn the run's task from its lines;
- the public run: the data file itself, as the student's own `python train.py` runs it;
  its held-out losses (of the unsubstituted held-out lines) are recorded by model name
  (TestResult.outcome), for a report-numbers deliverable to check the numbers a student
  quotes (deliverables.py);
- the public run again: both must agree (up to rounding), or the test fails (training
  must be deterministic given the seed: no global random state, no clock).
Each run returns, for each model, its loss history and its trained parameters as plain
arrays, named by the function's outputs (`prefix` + parameter name). After the process is
gone, each model's parameters are judged with the REFERENCE forward (`forward`, a function
of the lab) on the held-out lines: a fast or wrong forward of the student's cannot fake a
low loss. A model earns points only with a history that is its training's: finite,
starting within `max_start_gap` of log(V), ending within `max_history_gap` of the loss the
reference forward gives its parameters on the training lines. A history that claims far
less names the `mismatch` mistake (a model that sees the token it predicts). "beats"
needs a trained baseline too (held-out loss at most `baseline_max_loss`), so sabotaging
the baseline earns nothing.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from attn_grade.cases import Case
from attn_grade.errors import LabSpecError
from attn_grade.expected import Expectation, call_reference
from attn_grade.labspec import LabSpec, MistakeSpec
from attn_grade.reference import Reference
from attn_grade.result import ERROR, FAILED, PASSED, TestResult
from attn_grade.runner import Call, CallOutcome
from attn_grade.translation import gettext_for

ValuesJudge = Callable[[LabSpec, Case, CallOutcome, Expectation, str], TestResult]
OUTCOMES = ("learns", "below", "beats")
HISTORY_TAIL = 10  # steps averaged at each end of a history


@dataclass(frozen=True)
class Model:
    name: str
    forward: str
    history: str
    prefix: str
    mismatch: str = ""  # a mistake id of the lab
    name_pt: str = ""  # its name in Portuguese (lab text is translated in lab.toml)

    def named(self, lang: str) -> str:
        return self.name_pt if lang == "pt" and self.name_pt else self.name


@dataclass(frozen=True)
class Substitution:
    """The graded run's task: `letters` after the first `after` of each line go through a
    derangement drawn from the argument `key` (drawn from the run's seed, never sent)."""

    letters: str
    after: str
    key: str


@dataclass(frozen=True)
class TrainingOptions:
    data: str
    heldout: str
    vocab: str
    line_start: str
    model: Model
    baseline: Model
    min_drop: float
    max_loss: float
    min_margin: float
    max_history_gap: float
    max_start_gap: float
    baseline_max_loss: float
    substitution: Substitution
    credit: dict[str, float]
    hint: str = ""
    hint_pt: str = ""


def training_options(lab: LabSpec, case: Case) -> TrainingOptions:
    """The test's [tests.training] table, checked against the lab's functions."""
    assert case.test is not None
    table, where = case.test.options, f"{lab.id}: test {case.test.name}"
    try:
        models = [Model(**table[key]) for key in ("model", "baseline")]
        options = TrainingOptions(
            data=str(table["data"]), heldout=str(table["heldout"]), vocab=str(table["vocab"]),
            line_start=str(table.get("line_start", "")), model=models[0], baseline=models[1],
            min_drop=float(table["min_drop"]), max_loss=float(table["max_loss"]),
            min_margin=float(table["min_margin"]),
            max_history_gap=float(table["max_history_gap"]),
            max_start_gap=float(table["max_start_gap"]),
            baseline_max_loss=float(table["baseline_max_loss"]),
            substitution=Substitution(**table["substitute"]),
            credit={k: float(v) for k, v in table["credit"].items()},
            hint=str(table.get("hint", "")), hint_pt=str(table.get("hint_pt", table.get("hint", ""))),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise LabSpecError(f"{where}: [tests.training] is incomplete or wrong: {exc}") from exc
    if case.test.visibility != "hidden":
        raise LabSpecError(f"{where}: a training test must be hidden: it needs the reference")
    outputs = case.function.outputs
    for model in models:
        if model.forward not in lab.functions:
            raise LabSpecError(f"{where}: training {model.name}.forward must name a function")
        if model.history not in outputs or not any(o.startswith(model.prefix) for o in outputs):
            raise LabSpecError(f"{where}: {case.function.name} has no {model.name} outputs")
    sub = options.substitution
    if sub.key not in case.args or sub.key in case.function.positional or not (
            set(sub.letters + sub.after) <= set(options.vocab) and sub.after not in sub.letters):
        raise LabSpecError(f"{where}: training.substitute needs letters and `after` of the "
                           f"vocabulary, and `key` an argument the function does not take")
    if sorted(options.credit) != sorted(OUTCOMES) or sum(options.credit.values()) != case.test.points:
        raise LabSpecError(f"{where}: training.credit must give {OUTCOMES} the test's points")
    return options


def read_lines(path: Path, vocab: str, line_start: str) -> np.ndarray:
    """A text file of equally long lines as token rows (a line start in front of each).

    Shapes:
        returns: int64 (lines, len(line_start) + line length)
    """
    index = {ch: i for i, ch in enumerate(vocab)}
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    rows = [[index[ch] for ch in line_start + line] for line in lines if line]
    if not rows or len({len(r) for r in rows}) != 1:
        raise LabSpecError(f"{path}: training lines must be non-empty and of one length")
    return np.array(rows, dtype=np.int64)


def derangement(size: int, key) -> np.ndarray:
    """A permutation of range(size) with no fixed point, drawn from `key` (seed material).

    Shapes:
        returns: int64 (size,), perm[i] != i for every i
    """
    rng = np.random.default_rng(np.asarray(key, dtype=np.uint64).ravel().tolist())
    while True:
        perm = rng.permutation(size)
        if size < 2 or not np.any(perm == np.arange(size)):
            return perm


def substituted(rows: np.ndarray, vocab: str, substitution: Substitution, key) -> np.ndarray:
    """`rows` with every token of `substitution.letters` after the first `after` token of
    its row replaced by its image under the derangement drawn from `key`.

    Shapes:
        rows: int (N, L); returns: int64 (N, L)
    """
    ids = np.array([vocab.index(ch) for ch in substitution.letters], dtype=np.int64)
    table = np.arange(len(vocab), dtype=np.int64)  # token -> token, (V,)
    table[ids] = ids[derangement(len(ids), key)]
    bar = rows == vocab.index(substitution.after)  # (N, L)
    after = np.cumsum(bar, axis=1) - bar > 0  # (N, L): strictly after the first bar
    return np.where(after, table[rows], rows).astype(np.int64)


# The three runs of a training test, all in the student's process, one call each:
#   ""         the public run: the data file itself, what `python train.py` repeats; its
#              held-out losses are recorded for the report's numbers
#   SECRET     the graded run: the data with the run's secret substitution (stored or
#              hand-made parameters of the public task predict the wrong letters)
#   AGAIN      the public run once more: the same arguments must give the same results
SECRET, AGAIN = "@secret", "@again"


def _with_data(lab: LabSpec, case: Case, options: TrainingOptions, secret: bool = False,
               **override) -> Case:
    data = read_lines(lab.spec_dir / options.data, options.vocab, options.line_start)
    if secret:
        data = substituted(data, options.vocab, options.substitution,
                           case.args[options.substitution.key])
    args = {k: v for k, v in case.args.items() if k != options.substitution.key}
    return replace(case, args={**args, "data": data, **override})


def training_call(lab: LabSpec, case: Case) -> Call:
    """The public run's call, in the student's process, on the training rows only."""
    return _with_data(lab, case, training_options(lab, case)).call()


def training_calls(lab: LabSpec, case: Case) -> list[Call]:
    """A training test's other calls: the graded (secret) run and the public run again
    (none for any other test)."""
    if case.test is None or case.test.kind != "training":
        return []
    options = training_options(lab, case)
    secret = replace(_with_data(lab, case, options, secret=True).call(), key=case.key + SECRET)
    return [secret, replace(training_call(lab, case), key=case.key + AGAIN)]


@dataclass
class TrainingExpectation(Expectation):
    """What the judge needs, made after the student's process is gone: the shapes of the
    outputs (the reference's function with a budget of 0 steps: its initial parameters),
    the reference forwards and the held-out and training rows."""

    forwards: dict[str, Callable] = field(default_factory=dict)
    heldout: np.ndarray | None = None
    train: np.ndarray | None = None
    secret_heldout: np.ndarray | None = None  # both with the run's substitution
    secret_train: np.ndarray | None = None
    mistakes: dict[str, MistakeSpec] = field(default_factory=dict)


def training_expectation(lab: LabSpec, reference: Reference, case: Case) -> TrainingExpectation:
    options = training_options(lab, case)
    untrained = _with_data(lab, case, options, steps=0)
    heldout = read_lines(reference.folder / options.heldout, options.vocab, options.line_start)
    key = case.args[options.substitution.key]
    return TrainingExpectation(
        outputs=call_reference(reference.function(case.function.name), untrained),
        variants=[],
        forwards={m.name: reference.function(m.forward) for m in (options.model, options.baseline)},
        heldout=heldout,
        train=untrained.args["data"],
        secret_heldout=substituted(heldout, options.vocab, options.substitution, key),
        secret_train=_with_data(lab, case, options, secret=True).args["data"],
        mistakes={m.id: m for m in lab.mistakes},
    )


def mean_loss(forward: Callable, params: dict[str, np.ndarray], rows: np.ndarray) -> float:
    """The mean next-token cross-entropy of `rows` under `forward` (a reference function):
    position t of rows[:, :-1] predicts rows[:, t + 1]. NaN when it cannot be computed.

    Shapes:
        rows: int (B, L); forward(rows[:, :-1], params): logits (B, L - 1, V), or a tuple
        whose first item they are; returns: a float
    """
    try:
        with np.errstate(all="ignore"):
            logits = forward(rows[:, :-1], params)
            logits = np.asarray(logits[0] if isinstance(logits, tuple) else logits, dtype=np.float64)
            shifted = logits - logits.max(axis=-1, keepdims=True)  # (B, T, V)
            log_probs = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
            picked = np.take_along_axis(log_probs, rows[:, 1:, None], axis=-1)  # (B, T, 1)
            return float(-picked.mean())
    except Exception:  # noqa: BLE001 - parameters the reference cannot use: no loss
        return math.nan


@dataclass
class _Trained:
    model: Model
    history: np.ndarray
    params: dict[str, np.ndarray]
    heldout_loss: float = math.nan
    train_loss: float = math.nan

    @property
    def claims(self) -> tuple[float, float]:
        """The mean of the first and of the last steps of the history."""
        return float(self.history[:HISTORY_TAIL].mean()), float(self.history[-HISTORY_TAIL:].mean())

    def history_lies(self, gap: float) -> bool:
        """The history claims a loss far below what its parameters give (a forward that
        sees the token it predicts)."""
        end = self.claims[1] if self.history.size else math.nan
        return math.isfinite(end) and end < self.train_loss - gap

    def history_problem(self, options: TrainingOptions, uniform: float, lang: str) -> str:
        """Why the history is not the training of these parameters, or "": it must be
        finite, start near an untrained model's loss (log V) and end near the loss its
        parameters give on the training lines, in both directions."""
        _, name = gettext_for(lang), self.model.named(lang)
        start, end = self.claims
        if not np.all(np.isfinite(self.history)) or not math.isfinite(self.train_loss):
            return _("your {model}'s history holds NaN or inf: it must hold the loss of each "
                     "step").format(model=name)
        if self.history_lies(options.max_history_gap):
            return _("your {model}'s history ends at {claimed:.3f}, but its parameters give "
                     "{loss:.3f} on the same training lines with the reference's forward: your "
                     "forward is not the reference's").format(
                         model=name, claimed=end, loss=self.train_loss)
        if abs(start - uniform) > options.max_start_gap:
            return _("your {model}'s history starts at {start:.3f}, but an untrained model's "
                     "loss is about {uniform:.3f} (log V): a history starts where its training "
                     "starts, and holds every step of the budget").format(
                         model=name, start=start, uniform=uniform)
        if end > self.train_loss + options.max_history_gap:
            return _("your {model}'s history ends at {claimed:.3f}, but its parameters give "
                     "{loss:.3f} on the same training lines with the reference's forward: the "
                     "history is not the training of these parameters").format(
                         model=name, claimed=end, loss=self.train_loss)
        return ""


def judge_training(
    lab: LabSpec,
    case: Case,
    outcome: CallOutcome,
    expectation: Expectation,
    lang: str,
    judge_values: ValuesJudge,
    outcomes: dict[str, CallOutcome] | None = None,
) -> TestResult:
    """The graded run's held-out losses of both trained models, with the reference
    forwards; the public run's, recorded; and the public run against its repetition.
    `outcomes` holds the calls of training_calls (by key)."""
    function = case.function
    others = [(outcomes or {}).get(case.key + k) for k in (SECRET, AGAIN)]
    if None in others:
        raise LabSpecError(f"{lab.id}: {case.test.name}: the training test's other runs did "
                           f"not run (grading.py must add training_calls)")
    for got in (outcome, *others):
        if got.status != "ok" or not isinstance(expectation, TrainingExpectation):
            return judge_values(lab, case, got, expectation, lang)
    options = training_options(lab, case)
    result = TestResult(
        name=case.test.name, function=function.name, visibility=case.test.visibility,
        status=FAILED, points=0.0, max_points=case.test.points,
        description=case.test.described(lang), where=outcome.where,
    )
    _ = gettext_for(lang)
    models = (options.model, options.baseline)
    for got in (outcome, *others):
        if len(got.outputs) != len(function.outputs):
            result.status, result.message = ERROR, _("the student process returned too few arrays")
            return result
        problem = _shape_problem(function.outputs, got.outputs, expectation.outputs or [],
                                 int(case.args["steps"]), models, _)
        if problem:
            result.message = problem
            return result
    differs = _first_difference(function.outputs, outcome.outputs, others[1].outputs)
    if differs:
        result.message = _(
            "two runs of {function} with the same arguments gave different results ({name} "
            "differs by up to {diff:.3g}): training must be deterministic given the seed. "
            "Draw the batches from np.random.default_rng(seed), never from np.random's "
            "global functions or the clock"
        ).format(function=function.name, name=differs[0], diff=differs[1])
        result.diagnosis, result.diagnosed_by = "training-not-deterministic", "match"
        return result
    public = [_unpack(dict(zip(function.outputs, outcome.outputs)), m) for m in models]
    for t in public:
        t.heldout_loss = mean_loss(expectation.forwards[t.model.name], t.params, expectation.heldout)
        t.train_loss = mean_loss(expectation.forwards[t.model.name], t.params, expectation.train)
    trained = [_unpack(dict(zip(function.outputs, others[0].outputs)), m) for m in models]
    for t in trained:
        forward = expectation.forwards[t.model.name]
        t.heldout_loss = mean_loss(forward, t.params, expectation.secret_heldout)
        t.train_loss = mean_loss(forward, t.params, expectation.secret_train)
    return _grade(result, trained, public, options, expectation, lang)


def _first_difference(names, first, again) -> tuple[str, float] | None:
    """The first output that differs between two runs (beyond rounding), and by how much."""
    for name, a, b in zip(names, first, again):
        a, b = a.astype(np.float64), b.astype(np.float64)
        with np.errstate(all="ignore"):
            if not np.allclose(a, b, rtol=1e-7, atol=1e-9, equal_nan=True):
                diff = np.abs(a - b)
                return name, float(np.nanmax(diff)) if np.any(np.isfinite(diff)) else math.inf
    return None


def _shape_problem(names, outputs, template, steps: int, models, _: Callable[[str], str]) -> str:
    histories = {m.history for m in models}
    for name, got, want in zip(names, outputs, template):
        shape = (steps,) if name in histories else want.shape
        if got.shape != shape:
            if name in histories:
                what = _("its loss of each of the {steps} steps").format(steps=steps)
            else:
                what = _("the parameter")
            return _("{name}: expected shape {shape} ({what}), got {got}").format(
                name=name, shape=shape, what=what, got=got.shape)
        if got.dtype.kind not in "fiu":
            return _("{name}: expected numbers, got dtype {dtype}").format(
                name=name, dtype=got.dtype)
        if name not in histories and not np.all(np.isfinite(got)):
            return _(
                "{name}: the trained parameter holds NaN or inf: the training diverged"
            ).format(name=name)
    return ""


def _unpack(named: dict[str, np.ndarray], model: Model) -> _Trained:
    params = {
        name[len(model.prefix):]: value.astype(np.float64)
        for name, value in named.items() if name.startswith(model.prefix)
    }
    return _Trained(model, named[model.history].astype(np.float64), params)


def _grade(result: TestResult, trained: list[_Trained], public: list[_Trained],
           options: TrainingOptions, expectation: TrainingExpectation, lang: str) -> TestResult:
    model, baseline = trained
    uniform = math.log(len(options.vocab))
    _ = gettext_for(lang)
    problems = {t.model.name: t.history_problem(options, uniform, lang) for t in trained}
    finite = math.isfinite(model.heldout_loss) and not problems[model.model.name]
    baseline_trained = (math.isfinite(baseline.heldout_loss) and not problems[baseline.model.name]
                        and baseline.heldout_loss <= options.baseline_max_loss)
    met = {
        "learns": finite and model.heldout_loss < uniform - options.min_drop,
        "below": finite and model.heldout_loss <= options.max_loss,
        "beats": finite and baseline_trained
        and baseline.heldout_loss - model.heldout_loss >= options.min_margin,
    }
    result.points = sum(options.credit[k] for k, ok in met.items() if ok)
    result.status = PASSED if all(met.values()) else FAILED
    # the public run's held-out losses, for a report-numbers deliverable (deliverables.py)
    result.outcome = {t.model.name: t.heldout_loss for t in public if math.isfinite(t.heldout_loss)}
    name, base = model.model.named(lang), baseline.model.named(lang)
    lines = [
        _("graded on {data} with a secret substitution of its letters after \"{after}\", "
          "drawn for this run: your models must learn it from the lines they are given"
          ).format(data=options.data, after=options.substitution.after),
        _("held-out loss (nats a token, the reference's forward on your parameters): "
          "{model} {loss:.3f}, {baseline} {baseline_loss:.3f}; a uniform guess {uniform:.3f}"
          ).format(model=name, loss=model.heldout_loss, baseline=base,
                   baseline_loss=baseline.heldout_loss, uniform=uniform),
        _("your histories (first {n} steps -> last {n}): {histories}").format(
            n=HISTORY_TAIL, histories=", ".join(
                f"{t.model.named(lang)} {t.claims[0]:.3f} -> {t.claims[1]:.3f}" for t in trained)),
    ]
    needs = {
        "learns": _("{model} learns: below {loss:.3f}").format(
            model=name, loss=uniform - options.min_drop),
        "below": _("{model} at most {loss:g}").format(model=name, loss=options.max_loss),
        "beats": _("{model} at least {margin:g} below a trained {baseline} (its loss at most "
                   "{most:g})").format(model=name, margin=options.min_margin, baseline=base,
                                      most=options.baseline_max_loss),
    }
    missed = [needs[k] for k, ok in met.items() if not ok]
    if missed:
        lines.append(_("not met: {needs}").format(needs="; ".join(missed)))
    else:
        lines.append(_("met: {needs}").format(needs="; ".join(needs.values())))
    lines += [p for p in problems.values() if p]
    if result.outcome:
        lines.append(_("your run on {data} itself (the run a report quotes): held-out "
                       "loss {losses}").format(
                           data=options.data, losses=", ".join(
                               f"{t.model.named(lang)} {t.heldout_loss:.3f}" for t in public)))
    result.message = "\n".join(lines)
    _diagnose(result, trained, public, options, expectation, lang, met)
    return result


def _diagnose(result: TestResult, trained: list[_Trained], public: list[_Trained],
              options: TrainingOptions, expectation: TrainingExpectation, lang: str,
              met: dict[str, bool]) -> None:
    for t, same in zip(trained, public):
        mistake = expectation.mistakes.get(t.model.mismatch)
        # a forward that sees the future lies on any lines; parameters made for the
        # public lines alone (stored, not trained here) lie on the graded run's only
        if mistake is not None and t.history_lies(options.max_history_gap) \
                and same.history_lies(options.max_history_gap):
            result.diagnosis, result.diagnosed_by = mistake.id, "match"
            result.hint = mistake.hint_pt if lang == "pt" else mistake.hint
            return
    first, last = trained[0].claims  # a history that is not the training's says nothing
    uniform = math.log(len(options.vocab))
    if (not met["learns"] and abs(first - last) < options.min_drop
            and not trained[0].history_problem(options, uniform, lang)):
        result.diagnosis, result.diagnosed_by = "training-never-updates", "match"
        result.hint = (options.hint_pt if lang == "pt" else options.hint) or None
