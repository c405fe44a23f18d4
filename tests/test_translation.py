"""Portuguese everywhere (issue #16): the catalog is complete and well-formed, lab specs
carry their Portuguese, the language is chosen as documented, and a wrong lab01
submission checked with --lang pt gets a report with no English sentence in it, while
the English report stays as it was."""

from __future__ import annotations

import gettext
import html
import io
import json
import os
import re
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
from attn_grade.labspec import LABS_DIR, lab_ids
from attn_grade.language import checked_language
from attn_grade.translation import DOMAIN, LOCALE_DIR, translator
from conftest import CORPUS, KIT_ROOT, SOLUTIONS, committed, copy_reference, write_stubs

babel = pytest.importorskip("babel", reason="Babel (the [dev] extra) reads the catalogs")
from babel.messages.extract import extract_from_dir  # noqa: E402
from babel.messages.mofile import write_mo  # noqa: E402
from babel.messages.pofile import read_po  # noqa: E402

PACKAGE = KIT_ROOT / "grader" / "attn_grade"
PO_FILE = LOCALE_DIR / "pt_BR" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO_FILE = PO_FILE.with_suffix(".mo")
KEYWORDS = {"_": None, "N_": None}


def _catalog():
    with PO_FILE.open("rb") as handle:
        return read_po(handle, locale="pt_BR", domain=DOMAIN)


def _code_messages() -> set[str]:
    """Every message the code marks with _() or N_()."""
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _placeholders(text: str) -> list[str]:
    """The {name:spec} fields, %(name)s conversions and Rich markup tags of a message, sorted."""
    fields = [
        f"{{{name}{':' + spec if spec else ''}}}"
        for _literal, name, spec, _conversion in string.Formatter().parse(text)
        if name is not None
    ]
    markup = re.findall(r"\[/?[a-z ]*\]", text)  # Rich's [bold]...[/] in the progress table
    return sorted(fields + re.findall(r"%\([^)]+\)[a-z]", text) + markup)


def test_every_message_of_the_code_has_a_portuguese_translation():
    catalog = _catalog()
    code = _code_messages()
    assert code, "the extraction found no message: is the _ keyword still used?"
    missing = sorted(m for m in code if m not in catalog or not catalog[m].string)
    assert not missing, f"not in {PO_FILE.name} or untranslated (pybabel update): {missing}"
    fuzzy = sorted(m.id for m in catalog if m.id and m.fuzzy)
    assert not fuzzy, f"fuzzy translations, to check and unmark: {fuzzy}"
    stale = sorted(m.id for m in catalog if m.id and m.id not in code)
    assert not stale, f"in {PO_FILE.name} but no longer in the code: {stale}"


def test_translations_keep_every_placeholder():
    wrong = [
        (m.id, m.string)
        for m in _catalog()
        if m.id and _placeholders(m.id) != _placeholders(m.string)
    ]
    assert not wrong, wrong


def test_translations_format_like_the_english():
    """Each translation formats with the arguments its English takes (a stray brace
    would raise only in front of a student)."""
    for message in _catalog():
        if not message.id:
            continue
        names = {n for _l, n, _s, _c in string.Formatter().parse(message.id) if n is not None}
        values = {n: 1.5 for n in names}
        message.id.format(**values)
        message.string.format(**values)


def test_the_committed_mo_is_compiled_from_the_committed_po():
    compiled = io.BytesIO()
    write_mo(compiled, _catalog())
    compiled.seek(0)
    fresh = gettext.GNUTranslations(compiled)
    with MO_FILE.open("rb") as handle:
        committed = gettext.GNUTranslations(handle)
    # the messages, not the header ("" holds dates Babel fills in when it reads the .po)
    messages = {key: text for key, text in committed._catalog.items() if key != ""}
    assert messages == {key: text for key, text in fresh._catalog.items() if key != ""}, (
        "run: pybabel compile -d grader/attn_grade/locale -D attn_grade"
    )


def test_english_is_the_code_itself_and_portuguese_reads_the_catalog():
    assert translator("en").gettext("Likely mistake: {mistake}") == "Likely mistake: {mistake}"
    assert translator("pt").gettext("Likely mistake: {mistake}") == "Erro provável: {mistake}"


def test_every_lab_spec_text_has_a_portuguese_version():
    """Lab text is translated in lab.toml (description_pt, title_pt, hint_pt), beside
    the English, so that a new lab never edits the engine's catalog."""
    missing = []
    for lab in lab_ids():
        data = tomllib.loads((LABS_DIR / lab / "lab.toml").read_text(encoding="utf-8"))
        tables = [("lab", data["lab"], "title")]
        tables += [(f"test {t['name']}", t, "description") for t in data.get("tests", [])]
        tables += [(f"deliverable {d['id']}", d, "title") for d in data.get("deliverables", [])]
        tables += [(f"mistake {m['id']}", m, "hint") for m in data.get("mistakes", [])]
        tables += [(f"probe {p['id']}", p, "hint") for p in data.get("probes", [])]
        for where, table, key in tables:
            if table.get(key) and not table.get(f"{key}_pt", "").strip():
                missing.append(f"{lab}: {where}: {key}_pt")
    assert not missing, missing


@pytest.mark.parametrize(
    ("given", "environment", "chosen"),
    [
        ("pt", {"ATTN_GRADE_LANG": "en"}, "pt"),  # --lang first
        ("pt_BR", {}, "pt"),
        ("pt-BR", {}, "pt"),
        (None, {"ATTN_GRADE_LANG": "pt", "LANG": "en_US.UTF-8"}, "pt"),  # then ATTN_GRADE_LANG
        (None, {"ATTN_GRADE_LANG": "en", "LC_ALL": "pt_BR.UTF-8"}, "en"),
        (None, {"LC_ALL": "pt_BR.UTF-8", "LANG": "en_US.UTF-8"}, "pt"),  # then the locale
        (None, {"LC_MESSAGES": "pt_BR.UTF-8", "LANG": "C.UTF-8"}, "pt"),
        (None, {"LANG": "pt_BR.UTF-8"}, "pt"),
        (None, {"LANG": "C.UTF-8"}, "en"),
        (None, {}, "en"),
    ],
)
def test_the_language_is_chosen_by_option_then_environment_then_locale(
    monkeypatch, given, environment, chosen
):
    for variable in ("ATTN_GRADE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    assert checked_language(given) == chosen


# ------------------------------------------------------------ the student's report
# attention.py with two mistakes: no 1/sqrt(d_k) (values differ on 2-D inputs), and
# `.T` on batched keys (NumPy raises: a shape error explained in a sentence).
WRONG_ATTENTION = (SOLUTIONS / "lab01" / "attention.py").read_text().replace(
    "q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)", "q @ k.T"
)
WRONG_SOFTMAX = (SOLUTIONS / "lab01" / "softmax.py").read_text().replace(
    "np.max(x, axis=axis, keepdims=True)", "np.max(x, axis=-1, keepdims=True)"
).replace("np.sum(exps, axis=axis, keepdims=True)", "np.sum(exps, axis=-1, keepdims=True)")
# a student's own checklist, in Portuguese (its items are her words: they are shown as written)
CHECKLIST_PT = """# Checklist
- [x] Implementar uma softmax numericamente estável <!-- check: tests:softmax -->
- [ ] Implementar a atenção por produto escalar <!-- check: tests:scaled_dot_product_attention -->
- [ ] Desenhar o mapa de calor <!-- check: visualize -->
- [x] Ler a seção 3.2 do artigo <!-- reading: vaswani2017 -->
- [ ] Escrever a atenção com laços
"""
# English words that Portuguese sentences do not use (numbers, identifiers and file
# names never contain them as separate words; mask and max are argument and function
# names the Portuguese hints quote, so they are not in the list; nor is "for", a
# Portuguese verb too: "se o máximo não for subtraído")
ENGLISH_WORDS = {
    "the", "of", "and", "is", "are", "not", "your", "you", "with", "in", "on", "to",
    "was", "were", "got", "expected", "should", "values", "differ", "shape", "wrong",
    "missing", "passed", "tests", "hidden", "score", "weights", "mistake", "likely",
    "found", "words", "least", "write", "add", "line", "like", "section", "heatmap",
    "draws", "why", "one", "explained", "batch", "keys", "queries", "every", "row",
    "inputs", "input", "error", "abs", "rel", "first", "at", "under", "also", "hint",
    "deliverables", "checklist", "status", "points", "feedback", "done", "open", "yet",
}


def _wrong_submission(tmp_path):
    folder = write_stubs("lab01", tmp_path / "lab01")  # the committed handouts
    for name in ("README.pt-BR.md", "CHECKLIST.pt-BR.md", "REPORT.pt-BR.md"):  # as in the kit
        (folder / name).write_text(committed(f"exercises/lab01/{name}"), encoding="utf-8")
    (folder / "softmax.py").write_text(WRONG_SOFTMAX)
    (folder / "attention.py").write_text(WRONG_ATTENTION)
    (folder / "CHECKLIST.md").write_text(CHECKLIST_PT, encoding="utf-8")
    (folder / "visualize.py").unlink()  # a deliverable not started
    assert WRONG_ATTENTION != (SOLUTIONS / "lab01" / "attention.py").read_text()
    assert WRONG_SOFTMAX != (SOLUTIONS / "lab01" / "softmax.py").read_text()
    return folder


def _check(folder, lang: str) -> str:
    environment = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1", "LANG": "C.UTF-8"}
    environment.pop("ATTN_GRADE_LANG", None)
    environment.pop("LC_ALL", None)
    environment.pop("LC_MESSAGES", None)
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "check", "lab01", "--path", str(folder),
         "--lang", lang, "--seed", "3"],
        cwd=KIT_ROOT, capture_output=True, text=True, env=environment, timeout=300,
    )
    assert done.returncode == 1, done.stderr
    assert not done.stderr.strip(), done.stderr
    return done.stdout


def _english_fragments() -> set[str]:
    """The English text of every catalog message and of lab01's spec, cut at its
    placeholders: each piece of three words or more."""
    texts = [m.id for m in _catalog() if m.id]
    data = tomllib.loads((LABS_DIR / "lab01" / "lab.toml").read_text(encoding="utf-8"))
    texts += [data["lab"]["title"]]
    texts += [t["description"] for t in data["tests"]] + [d["title"] for d in data["deliverables"]]
    texts += [m["hint"] for m in data["mistakes"]] + [p["hint"] for p in data["probes"]]
    fragments = set()
    for text in texts:
        for literal, *_rest in string.Formatter().parse(text):
            for piece in re.split(r"[.:;()\"]", literal):
                piece = " ".join(piece.split())
                # three words or more: not "2, 5, 6", not an identifier like a_b_c
                if len(re.findall(r"(?<![\w.])[A-Za-z']{2,}(?![\w.(])", piece)) >= 3:
                    fragments.add(piece)
    return fragments


def test_check_in_portuguese_prints_no_english_sentence(tmp_path):
    folder = _wrong_submission(tmp_path)
    output = _check(folder, "pt")
    # the report has what the student must see, in Portuguese
    for expected in ("Erro provável: missing-scale", "valores diferem", "Em formas:",
                     "Entregas", "visualize.py não encontrado", "Nota:", "Testes",
                     "Os scores não foram escalados", "linhas de uma matriz (4, 7)",
                     "REPORT.pt-BR.md (a): 0 palavras até agora"):  # both untouched: pt's
        assert expected in output, expected
    flat = " ".join(output.split())
    leaked = sorted(f for f in _english_fragments() if f in flat)
    assert not leaked, leaked
    # the example sentence's tokens (The animal didn't ...) and NumPy's own error text
    # (kept beside the explanation, as the student's code raised it) are data
    tokens = tomllib.loads((LABS_DIR / "lab01" / "lab.toml").read_text())["example"]["tokens"]
    data = set(tokens) | {t[:4] for t in tokens}  # the heatmap's rows and columns
    prose = [line for line in output.splitlines() if "Error: " not in line]  # NumPy's text
    # words, not parts of identifiers, paths or file names (attn_grade_heatmap.png)
    words = re.findall(r"(?<![\w./:-])[A-Za-z']+(?![\w./-]|:\w)", "\n".join(prose))
    english = sorted({w for w in words if w.lower() in ENGLISH_WORDS and w not in data})
    assert not english, (english, "\n".join(prose))


def test_check_in_english_is_unchanged(tmp_path):
    output = " ".join(_check(_wrong_submission(tmp_path), "en").split())
    for expected in ("Likely mistake: missing-scale", "values differ; first at",
                     "expected[0, 0:", "In shapes:", "Deliverables", "visualize.py not found",
                     "Score:", "public tests passed:", "rows of a (4, 7) matrix",
                     "The scores are not scaled", "PASS", "FAIL", "not-verified",
                     "Your attention weights on the example sentence",
                     "REPORT.md (a): 0 words so far"):
        assert expected in output, expected
    assert "Erro provável" not in output and "valores diferem" not in output


def test_the_heatmap_png_speaks_portuguese(monkeypatch):
    import numpy as np
    from attn_grade.report.heatmap_png import draw_heatmaps
    from attn_grade.result import ExampleWeights
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    texts: list[str] = []
    monkeypatch.setattr(
        Figure, "savefig",
        lambda figure, *a, **k: texts.extend(t.get_text() for t in figure.findobj(Text)),
    )
    weights = np.full((3, 3), 1 / 3)
    example = ExampleWeights(["a", "b", "c"], weights, weights * 0.9, "",
                             not_shown="Testes com falha que esta figura não mostra: x")
    draw_heatmaps(example, io.BytesIO(), "lab01: pesos de atenção", "pt")
    shown = " ".join(texts)
    for expected in ("seus pesos", "referência", "chave (recebe a atenção)",
                     "consulta (presta atenção)", "seus - referência"):
        assert expected in shown, (expected, shown)
    english = {w for w in re.findall(r"[A-Za-z]+", shown) if w.lower() in ENGLISH_WORDS}
    assert not english, (english, shown)
    texts.clear()
    draw_heatmaps(example, io.BytesIO(), "lab01: attention weights", "en")
    assert "key (attended to)" in " ".join(texts) and "your weights" in " ".join(texts)


def test_json_keeps_its_schema_in_portuguese(tmp_path):
    """--json in Portuguese: the same keys and statuses (machine-read), messages translated."""
    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "attention.py").write_text(WRONG_ATTENTION)
    environment = {**os.environ, "COLUMNS": "160"}
    runs = {}
    for lang in ("en", "pt"):
        done = subprocess.run(
            [sys.executable, "-m", "attn_grade", "check", "lab01", "--path", str(folder),
             "--json", "--no-png", "--lang", lang, "--seed", "3"],
            cwd=KIT_ROOT, capture_output=True, text=True, env=environment, timeout=300,
        )
        runs[lang] = json.loads(done.stdout)
    en, pt = runs["en"], runs["pt"]
    assert en.keys() == pt.keys()
    assert [t["status"] for t in en["tests"]] == [t["status"] for t in pt["tests"]]
    assert [t["diagnosis"] for t in en["tests"]] == [t["diagnosis"] for t in pt["tests"]]
    assert en["score"] == pt["score"]
    messages = [t["message"] for t in pt["tests"] if t["status"] != "passed"]
    assert messages and all("values differ" not in m and "In shapes" not in m for m in messages)
    assert any("valores diferem" in m for m in messages)


def test_the_graders_own_failure_messages_speak_portuguese(tmp_path):
    """A hang, a missing function and a forbidden import: the grader's sentences are
    translated; what came from the student's process stays as it was."""
    from attn_grade.grading import grade
    from attn_grade.runner import Limits

    folder = copy_reference("lab01", tmp_path / "lab01")
    source = (SOLUTIONS / "lab01" / "softmax.py").read_text()
    (folder / "softmax.py").write_text(source.replace(
        "    ### BEGIN SOLUTION\n", "    ### BEGIN SOLUTION\n    while axis == 0:\n        pass\n"))
    (folder / "attention.py").write_text("import torch\n\n\ndef attention(q, k, v):\n    pass\n")
    results = {}
    for lang in ("en", "pt"):
        result = grade("lab01", folder, hidden=False, deliverables=False, lang=lang,
                       limits=Limits(time_limit=2.0, time_budget=0))
        results[lang] = {t.name: t for t in result.tests}
    en, pt = results["en"], results["pt"]
    assert en["softmax_axis_0"].status == pt["softmax_axis_0"].status == "timeout"
    assert en["softmax_axis_0"].message.startswith("Time limit: no result after 2 s")
    assert pt["softmax_axis_0"].message.startswith("Limite de tempo: nenhum resultado depois de 2 s")
    assert "durante este teste (um laço infinito?)" in pt["softmax_axis_0"].message
    assert "this lab is NumPy only" in en["attention_single"].message
    assert "este lab é só NumPy (torch não é permitido)" in pt["attention_single"].message

    (folder / "attention.py").write_text("import numpy as np\n")
    result = grade("lab01", folder, hidden=False, deliverables=False, lang="pt", only=["attention_single"])
    message = result.tests[0].message
    assert "attention.py não tem a função scaled_dot_product_attention; era esperado" in message


def test_progress_in_portuguese(tmp_path):
    work = tmp_path / "work"
    write_stubs("lab01", work / "lab01")
    environment = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1", "ATTN_GRADE_LANG": "pt"}
    done = subprocess.run(  # ATTN_GRADE_LANG alone chooses Portuguese
        [sys.executable, "-m", "attn_grade", "progress", "--path", str(work)],
        cwd=KIT_ROOT, capture_output=True, text=True, env=environment, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    output = done.stdout
    for expected in ("Seu progresso em", "nunca corrigido", "Próximo passo", "não começado",
                     "Softmax e atenção por produto escalar escalado"):
        assert expected in output, (expected, output)
    words = re.findall(r"(?<![\w./:-])[A-Za-z']+(?![\w./-]|:\w)", output)
    english = sorted({w for w in words if w.lower() in ENGLISH_WORDS})
    assert not english, (english, output)
    english_run = subprocess.run(
        [sys.executable, "-m", "attn_grade", "progress", "--path", str(work), "--lang", "en"],
        cwd=KIT_ROOT, capture_output=True, text=True, env=environment, timeout=120,
    )
    assert "Your progress in" in english_run.stdout and "never checked" in english_run.stdout


def test_the_portuguese_readme_cites_only_commands_and_options_that_exist():
    """README.pt-BR.md is kept in step with the command line: every `attn-grade ...` line
    of its code blocks names a command and options the CLI has."""
    import typer
    from attn_grade.cli import app

    commands = typer.main.get_command(app).commands
    text = (KIT_ROOT / "README.pt-BR.md").read_text(encoding="utf-8")
    lines = [line.split("#")[0].split() for line in text.splitlines() if line.startswith("    attn-grade ")]
    assert len(lines) >= 8
    for words in lines:
        command = commands.get(words[1])
        assert command is not None, words
        options = {name for p in command.params for name in getattr(p, "opts", [])}
        for word in words[2:]:
            if word.startswith("--"):
                assert word in options, (words, sorted(options))
    for variable in ("ATTN_GRADE_LANG", "LC_ALL", "LC_MESSAGES", "LANG"):
        assert variable in text
        assert variable in (KIT_ROOT / "README.md").read_text(encoding="utf-8")


def test_reading_in_portuguese():
    """Every annotation of the reading list has its Portuguese (why_pt); with the table in
    Portuguese (ATTN_GRADE_LANG, or --lang pt, which also keeps only Portuguese resources)
    the annotations and headings are Portuguese; the resources' titles are their own."""
    from attn_grade.reading import load_reading_list

    readings = load_reading_list().readings
    assert all(r.why_pt.strip() for r in readings), [r.id for r in readings if not r.why_pt]
    environment = {**os.environ, "COLUMNS": "2000", "NO_COLOR": "1", "ATTN_GRADE_LANG": "pt"}
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "reading", "lab01"],
        cwd=KIT_ROOT, capture_output=True, text=True, env=environment, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    flat = " ".join(done.stdout.split())
    shown = [r for r in readings if "lab01" in r.labs]
    for reading in shown:
        assert " ".join(reading.why_pt.split()) in flat, reading.id
        assert " ".join(reading.why.split()) not in flat, reading.id
    for expected in ("Antes de começar", "Enquanto você programa", "material", "por quê",
                     "Softmax e atenção por produto escalar escalado"):
        assert expected in flat, expected
    english = subprocess.run(
        [sys.executable, "-m", "attn_grade", "reading", "lab01"], cwd=KIT_ROOT,
        capture_output=True, text=True, timeout=120,
        env={**environment, "ATTN_GRADE_LANG": "en"},
    )
    assert "Before you start" in english.stdout and shown[0].why.split()[0] in english.stdout


def test_gradescope_results_in_portuguese(tmp_path):
    """`attn-grade gradescope --lang pt` records the language in the bundle; results.json
    then explains a wrong submission in Portuguese, with Gradescope's own keys and values."""
    import zipfile

    from attn_grade import gradescope
    from attn_grade.grading import grade
    from attn_grade.labspec import load_lab

    wheel = tmp_path / "attn_grade-0.1.0-py3-none-any.whl"
    wheel.write_bytes(b"not used here")
    bundle = tmp_path / "autograder.zip"
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "gradescope", "lab01", "-o", str(bundle),
         "--wheel", str(wheel), "--lang", "pt", "--solutions", str(SOLUTIONS / "lab01")],
        cwd=KIT_ROOT, capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0, done.stderr
    with zipfile.ZipFile(bundle) as archive:
        assert json.loads(archive.read(gradescope.BUNDLE_CONFIG))["lang"] == "pt"
    assert gradescope.build_bundle(load_lab("lab01"), SOLUTIONS / "lab01", tmp_path / "en.zip",
                                   wheel=wheel)  # the default stays English
    with zipfile.ZipFile(tmp_path / "en.zip") as archive:
        assert json.loads(archive.read(gradescope.BUNDLE_CONFIG))["lang"] == "en"

    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "attention.py").write_text(WRONG_ATTENTION)
    result = grade("lab01", folder, solutions=SOLUTIONS / "lab01", seed=3, lang="pt")
    results = gradescope.gradescope_results(result, "after_published")
    assert "Testes públicos que passaram:" in results["output"]
    assert "testes ocultos rodaram com entradas novas" in results["output"]
    failed = [t for t in results["tests"] if t["status"] == "failed"]  # Gradescope's value
    assert failed and all(t["output"].startswith(("falhou:", "erro:")) for t in failed)
    assert any("erro provável (missing-scale): Os scores não foram escalados" in t["output"]
               for t in failed)
    assert any(t["name"].startswith("visualize.py desenha") for t in results["tests"])


# ------------------------------------------------------------ the handouts in Portuguese
HANDOUT_TWINS = (("README.md", "README.pt-BR.md"), ("CHECKLIST.md", "CHECKLIST.pt-BR.md"),
                 ("REPORT.md", "REPORT.pt-BR.md"))
# what a translation must keep as it is: the tags the grader reads, the headings' shape,
# the code, the identifiers in backticks, the answers' score lines and the ticks
HEADING = re.compile(r"^(#{1,6})\s+(.*)$")
INLINE_CODE = re.compile(r"`([^`]+)`")
# inline code that carries language: the score line's form, and the handouts' own names
TRANSLATED_CODE = re.compile(r"^(Score|Peso):|\.pt-BR\.md$")


def _skeleton(text: str) -> dict[str, list]:
    """The parts of a handout that are the same in every language."""
    from attn_grade.deliverables import CHECK_TAG, ITEM, READING_TAG, SCORE_LINE

    lines = text.splitlines()
    headings = []
    for line in lines:
        found = HEADING.match(line)
        if found:  # its level, its (a) label, and its code (`softmax.py`)
            label = re.match(r"\(\w\)", found[2])
            headings.append((len(found[1]), label[0] if label else "",
                             INLINE_CODE.findall(found[2])))
    code, previous = [], ""
    for line in lines:  # indented code blocks (not a list item's continuation)
        if line.startswith("    ") and line.strip() and (not previous.strip() or previous in code):
            code.append(line)
        previous = line
    return {
        "headings": headings,
        "check tags": CHECK_TAG.findall(text),
        "reading tags": READING_TAG.findall(text),
        "checklist ticks": [m["tick"] for m in map(ITEM.match, lines) if m],
        "code blocks": [" ".join(line.split(" #")[0].split()) for line in code],
        "inline code": sorted({" ".join(c.split()) for c in INLINE_CODE.findall(text)
                               if not TRANSLATED_CODE.search(c)}),
        "score lines": [m.group("query", "key", "weight")
                        for m in map(SCORE_LINE.search, lines) if m],
    }


def _handout(place: str, lab: str, name: str) -> str:
    if place == "exercises":  # as committed: a student's own work lives in the working tree
        return committed(f"exercises/{lab}/{name}")
    return (KIT_ROOT / place / lab / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("lab", lab_ids())
@pytest.mark.parametrize("place", ["exercises", "solutions"])
@pytest.mark.parametrize(("english", "portuguese"), HANDOUT_TWINS)
def test_each_handout_has_a_portuguese_twin_kept_in_step(lab, place, english, portuguese):
    """README, CHECKLIST and REPORT of each lab have a .pt-BR.md beside them with the same
    skeleton: a change on one side alone (a check tag, a heading, a code block, a
    function name, a tick, a score line) fails here until the other side follows."""
    try:
        translated = _handout(place, lab, portuguese)
    except FileNotFoundError:
        pytest.fail(f"{place}/{lab}/{portuguese} is missing: translate {english} beside it")
    source = _skeleton(_handout(place, lab, english))
    twin = _skeleton(translated)
    for part in source:
        assert twin[part] == source[part], (
            f"{place}/{lab}: {portuguese} and {english} differ in their {part}"
        )
    assert "é" in translated or "ã" in translated or "ç" in translated  # written in Portuguese


def test_the_grader_reads_the_handout_the_student_filled(tmp_path):
    """The kit ships REPORT.md and REPORT.pt-BR.md (CHECKLIST too); a student fills one.
    The grader reads the one in the report's language if the student wrote in it, else
    the other one if the student wrote in it, else the one in the report's language."""
    from attn_grade.deliverables import filled_handout

    folder = tmp_path / "lab01"
    folder.mkdir()
    for english, portuguese in HANDOUT_TWINS[1:]:
        (folder / english).write_text(committed(f"exercises/lab01/{english}"), encoding="utf-8")
        (folder / portuguese).write_text(committed(f"exercises/lab01/{portuguese}"), "utf-8")
    for name, twin in HANDOUT_TWINS[1:]:  # both untouched: the language decides
        assert filled_handout(folder, name, "en").name == name
        assert filled_handout(folder, name, "pt").name == twin
    checklist = folder / "CHECKLIST.pt-BR.md"
    checklist.write_text(checklist.read_text("utf-8").replace("- [ ]", "- [x]", 1), "utf-8")
    assert filled_handout(folder, "CHECKLIST.md", "en").name == "CHECKLIST.pt-BR.md"
    report = folder / "REPORT.md"
    report.write_text(report.read_text("utf-8") + "\nThe variance grows with d_k.\n", "utf-8")
    assert filled_handout(folder, "REPORT.md", "pt").name == "REPORT.md"
    report_pt = folder / "REPORT.pt-BR.md"
    report_pt.write_text(report_pt.read_text("utf-8") + "\nA variância cresce.\n", "utf-8")
    assert filled_handout(folder, "REPORT.md", "pt").name == "REPORT.pt-BR.md"  # both: lang's
    assert filled_handout(folder, "REPORT.md", "en").name == "REPORT.md"
    (folder / "REPORT.md").unlink()
    assert filled_handout(folder, "REPORT.md", "en").name == "REPORT.pt-BR.md"
    (folder / "REPORT.pt-BR.md").unlink()
    assert filled_handout(folder, "REPORT.md", "pt").name == "REPORT.md"  # neither: named


def test_a_report_and_checklist_written_in_portuguese_are_graded(tmp_path):
    """The reference with its English handouts as templates and its Portuguese ones
    filled: every deliverable is done, and the Portuguese checklist is the one read,
    whatever the report's language."""
    from attn_grade.grading import grade

    folder = copy_reference("lab01", tmp_path / "lab01")
    for english, _portuguese in HANDOUT_TWINS[1:]:
        (folder / english).write_text(committed(f"exercises/lab01/{english}"), encoding="utf-8")
    for lang in ("en", "pt"):
        result = grade("lab01", folder, hidden=False, lang=lang)
        assert all(d.status == "done" for d in result.deliverables), result.deliverables
        assert any("REPORT.pt-BR.md (a)" in d.message for d in result.deliverables)
        assert result.checklist and all(item.ticked for item in result.checklist)
        assert result.checklist[0].text.startswith("Assistir à aula")


# NumPy's own text (what the student's code raised, shown as it is), when wrapped
NUMPY_MATMUL_ERROR = re.compile(r"signature \(n\?,k\),\(k,m\?\)->\(n\?,m\?\) "
                                r"\(size \d+ is\s+different\s+from\s+\d+\)")


def _english_words(text: str, data: set[str] = frozenset()) -> list[str]:
    """The ENGLISH_WORDS among the words of `text` (not parts of identifiers, paths or
    file names), but for `data` (tokens of the example sentence) and lines quoting an
    error's own text (NumPy's "ValueError: ...")."""
    prose = "\n".join(line for line in text.splitlines() if "Error: " not in line)
    prose = re.sub(NUMPY_MATMUL_ERROR, "", prose)  # the rest of a wrapped one
    words = re.findall(r"(?<![\w./:-])[A-Za-z']+(?![\w./-]|:\w)", prose)
    return sorted({w for w in words if w.lower() in ENGLISH_WORDS and w not in data})


def _example_tokens() -> set[str]:
    tokens = tomllib.loads((LABS_DIR / "lab01" / "lab.toml").read_text())["example"]["tokens"]
    return set(tokens) | {t[:4] for t in tokens}


def test_grade_summary_and_feedback_in_portuguese(tmp_path):
    """`attn-grade grade --lang pt`: the class summary, the feedback file of a wrong
    submission and the gradebook's reason for an unreadable one are Portuguese."""
    import csv

    submissions = tmp_path / "submissions"
    submissions.mkdir()
    wrong = _wrong_submission(tmp_path / "wrong")
    shutil.copytree(wrong, submissions / "ana")
    (submissions / "bruno.zip").write_text("not a zip")
    out = tmp_path / "out"
    environment = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "LANG": "C.UTF-8"}
    environment.pop("ATTN_GRADE_LANG", None)
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "grade", "lab01", str(submissions), "--out",
         str(out), "--jobs", "1", "--seed", "3", "--lang", "pt"],
        cwd=KIT_ROOT, capture_output=True, text=True, env=environment, timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout
    for expected in ("2 estudante(s)", "corrigidas: 1", "inválidas: 1", "distribuição das notas",
                     "erros mais comuns", "planilha de notas:"):
        assert expected in summary, (expected, summary)
    assert not _english_words(summary), summary
    feedback = (out / "students" / "ana" / "feedback.txt").read_text(encoding="utf-8")
    assert "Erro provável: missing-scale" in feedback and "Entregas" in feedback
    flat = " ".join(feedback.split())
    assert not sorted(f for f in _english_fragments() if f in flat)
    assert not _english_words(feedback, _example_tokens()), feedback
    page = (out / "students" / "ana" / "feedback.html").read_text(encoding="utf-8")
    assert '<html lang="pt-BR">' in page and "Erro provável" in page
    with (out / "gradebook.csv").open(newline="", encoding="utf-8") as handle:
        bruno = next(row for row in csv.DictReader(handle) if row["student"] == "bruno")
    assert "não é um arquivo zip legível" in bruno["note"], bruno


def test_the_nbgrader_notebook_in_portuguese(tmp_path):
    """`attn-grade nbgrader LAB --lang pt`: the handout is README.pt-BR.md, the grader's
    markdown and test comments are Portuguese, and every cell calls the engine in pt;
    without --lang the notebook is the English one, its cells unchanged."""
    import nbformat
    from attn_grade.cli import app
    from typer.testing import CliRunner

    notebooks = {}
    for lang in ("pt", "en"):
        course = tmp_path / lang
        extra = ["--lang", lang] if lang == "pt" else []
        done = CliRunner().invoke(app, ["nbgrader", "lab01", str(course), *extra])
        assert done.exit_code == 0, done.output
        notebooks[lang] = nbformat.read(str(course / "source" / "lab01" / "lab01.ipynb"), 4)
    pt, en = notebooks["pt"], notebooks["en"]
    markdown = "\n".join(c.source for c in pt.cells if c.cell_type == "markdown")
    assert markdown.startswith("# Lab 01: softmax e atenção por produto escalar escalado")
    for expected in ("## Como este notebook é corrigido", "--lang pt`",
                     "## O seu relatório e o mapa de calor", "## O que escrever"):
        assert expected in markdown, expected
    assert "## `softmax.py`" in [c.source for c in pt.cells]  # not its English docstring
    assert any(c.source.startswith("## `softmax.py`\nLab 01, part 1") for c in en.cells)
    grader_text = [c.source for c in pt.cells if c.cell_type == "markdown"
                   and c.source.startswith(("## Como", "## O seu relatório"))]
    assert len(grader_text) == 2 and not _english_words("\n".join(grader_text))
    calls = [c.source for c in pt.cells if "check_test(" in c.source or "show_report(" in c.source]
    assert calls and all('lang="pt"' in c for c in calls)
    assert any("# softmax_rows: " in c and "pontos)" in c for c in calls)
    hidden = [c.source for c in pt.cells if "BEGIN HIDDEN TESTS" in c.source]
    assert hidden and all(c.startswith("# Um teste oculto") for c in hidden)
    english_calls = [c.source for c in en.cells if "check_test(" in c.source]
    assert english_calls and not any("lang=" in c for c in english_calls)
    assert en.cells[0].source.startswith("# Lab 01: softmax and scaled dot-product attention")
    assert [c.metadata.get("nbgrader") for c in en.cells] == [c.metadata.get("nbgrader")
                                                              for c in pt.cells]


def test_html_report_list_and_errors_in_portuguese(tmp_path, monkeypatch):
    """The HTML report says it is Portuguese (<html lang>) and is; `list --lang pt`; an
    error of the command line in the user's language, the English one unchanged."""
    from attn_grade.cli import app
    from attn_grade.grading import grade
    from attn_grade.report.html import render_html
    from typer.testing import CliRunner

    folder = copy_reference("lab01", tmp_path / "lab01")
    (folder / "attention.py").write_text(WRONG_ATTENTION)
    page = render_html(grade("lab01", folder, hidden=False, lang="pt"))
    assert '<html lang="pt-BR">' in page
    for expected in ("<h2>Testes</h2>", "<h2>Entregas</h2>", "o que verifica", "FALHOU"):
        assert expected in page, expected
    # what the student's code printed is its own; the readings' titles are their own
    shown = re.sub(r'<style>.*?</style>|<pre class="output">.*?</pre>|<[^>]+>', " ", page,
                   flags=re.S)
    shown = re.sub(r'"[^"\n]*"', " ", html.unescape(shown))
    assert not _english_words(shown, _example_tokens()), shown
    assert '<html lang="en">' in render_html(grade("lab01", folder, hidden=False, lang="en"))

    monkeypatch.delenv("ATTN_GRADE_LANG", raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    runner = CliRunner()
    listed = runner.invoke(app, ["list", "--lang", "pt"], env={"COLUMNS": "200"})
    assert listed.exit_code == 0 and "Labs do attn-grade" in listed.output
    assert "iniciante" in listed.output and "Máscaras e codificação posicional" in listed.output
    assert not _english_words(listed.output)
    assert "attn-grade labs, in the order" in runner.invoke(app, ["list"]).output
    for args, portuguese, english in (
        (["check", "lab99"], "Lab desconhecido: 'lab99'", "Unknown lab 'lab99'"),
        (["check", "lab01", "--path", str(tmp_path / "nowhere")], "Não há pasta nem arquivo",
         "No folder or file"),
        (["progress", "--path", str(tmp_path / "nowhere")], "Não há pasta", "No folder"),
        (["reading", "lab01", "--kind", "nope"], "Tipo desconhecido", "Unknown kind"),
    ):
        said = runner.invoke(app, [*args, "--lang", "pt"])
        assert said.exit_code == 2 and portuguese in said.output, said.output
        assert english in runner.invoke(app, [*args, "--lang", "en"]).output
    said = runner.invoke(app, ["check", "lab01", "--lang", "xx"], env={"ATTN_GRADE_LANG": "pt"})
    assert "--lang deve ser en ou pt, não 'xx'" in said.output, said.output  # the default's
    broken = tmp_path / "lab01.ipynb"  # a submission that cannot be read: the student's to fix
    broken.write_text('{"cells": [')
    said = runner.invoke(app, ["check", "lab01", "--path", str(broken), "--lang", "pt"])
    assert said.exit_code == 1 and "não é um notebook legível" in said.output, said.output
    assert "is not a readable notebook" in runner.invoke(
        app, ["check", "lab01", "--path", str(broken), "--lang", "en"]).output
    broken.write_text(json.dumps({"cells": [{"cell_type": "code", "source": "x = 1"}]}))
    said = runner.invoke(app, ["check", "lab01", "--path", str(broken), "--lang", "pt"])
    assert "nenhuma célula de código define softmax" in said.output, said.output
    assert not _english_words(said.output.replace("(x, axis=-1)", "")), said.output


def test_speed_and_limit_messages_in_portuguese():
    """The speed test's verdict and the runner's notes on limits are the grader's words."""
    import numpy as np
    from attn_grade.checks.speed import SpeedOptions, _judge_times
    from attn_grade.result import TestResult
    from attn_grade.runner import CallOutcome, Limits, _limit_note
    from attn_grade.translation import gettext_for

    times = np.array([[0.001] * 5, [0.005] * 5])  # the matrix version only 5x faster
    outcome = CallOutcome("ok", outputs=[times], wall_seconds=0.1)
    options = SpeedOptions("slow", (), 10.0, 5, 1)
    said = {}
    for lang in ("pt", "en"):
        result = TestResult("speed", "fast", "public", "passed", 2, 2)
        batch = gettext_for(lang)("the same inputs")
        said[lang] = _judge_times(result, outcome, options, "fast", "slow", batch, "",
                                  gettext_for(lang)).message
    assert said["en"] == ("slow 5 ms, fast 1 ms for the same inputs (median of 5): "
                          "5.0x faster, needs 10x.")
    assert said["pt"] == ("slow 5 ms, fast 1 ms para as mesmas entradas (mediana de 5): "
                          "5.0x mais rápida; precisa de 10x.")
    note = _limit_note("MemoryError", "", Limits())
    assert note.translated("pt").startswith("limite de memória")
    assert note.english().startswith("memory limit")


def test_nbgrader_feedback_in_portuguese(tmp_path):
    """The real nbgrader pipeline on a course made with --lang pt: a notebook with the
    missing scale gets its likely mistake and hint in Portuguese in the autograded cell,
    and a stub's hidden-test cell says so in Portuguese."""
    pytest.importorskip("nbgrader")
    import copy

    import nbformat
    import test_nbgrader as pipeline
    from attn_grade.cli import app
    from typer.testing import CliRunner

    kernels = tmp_path / "jupyter" / "kernels" / "python3"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python 3 (attn-grade tests)", "language": "python",
    }))
    paths = [str(tmp_path / "jupyter")]
    if sys.base_prefix != sys.prefix:
        paths.append(str(Path(sys.base_prefix) / "share" / "jupyter"))
    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join(paths), "NO_COLOR": "1"}
    env.pop("ATTN_GRADE_SOLUTIONS", None)
    env.pop("ATTN_GRADE_LANG", None)  # the notebook's cells say pt themselves

    course = tmp_path / "course"
    made = CliRunner().invoke(app, ["nbgrader", "lab01", str(course), "--lang", "pt"])
    assert made.exit_code == 0, made.output
    pipeline._nbgrader(env, course, "generate_assignment", "lab01")
    source = nbformat.read(str(course / "source" / "lab01" / "lab01.ipynb"), 4)
    release = nbformat.read(str(course / "release" / "lab01" / "lab01.ipynb"), 4)
    notebooks = pipeline._submissions("lab01", source, release)
    chosen = {"mistake": notebooks[pipeline.MISTAKE], "stub": copy.deepcopy(release)}
    for student, notebook in chosen.items():
        folder = course / "submitted" / student / "lab01"
        folder.mkdir(parents=True)
        nbformat.write(notebook, str(folder / "lab01.ipynb"))
    pipeline._nbgrader(env, course, "autograde", "lab01")

    def outputs(student: str, grade_id: str) -> str:
        path = course / "autograded" / student / "lab01" / "lab01.ipynb"
        return pipeline._outputs(nbformat.read(str(path), 4), grade_id)

    wrong = re.sub(r"\x1b\[[0-9;]*m", "", outputs("mistake", "test_attention_single"))
    assert "Erro provável: missing-scale" in wrong and "Os scores não foram escalados" in wrong
    # IPython's traceback around the cell's AssertionError is Python's: its frames and
    # numbered source lines are code, not sentences
    prose = [line for line in wrong.splitlines() if "Traceback" not in line
             and not re.match(r"\s*(File |Cell |-+>|\d+ )", line)]
    assert not _english_words("\n".join(prose), _example_tokens()), wrong
    spec = tomllib.loads((LABS_DIR / "lab01" / "lab.toml").read_text(encoding="utf-8"))
    hidden = next(t["name"] for t in spec["tests"] if t.get("visibility") == "hidden")
    stub = re.sub(r"\x1b\[[0-9;]*m", "", outputs("stub", f"test_{hidden}"))
    assert "ainda não foi implementada" in stub, stub


def test_the_student_kit_ships_the_portuguese_handouts(tmp_path):
    """`attn-grade release`: each lab's .pt-BR.md handouts beside the English ones, as
    committed, and the students' guide in Portuguese."""
    from attn_grade.labspec import load_lab
    from attn_grade.release import build_release

    handouts = tmp_path / "handouts"
    write_stubs("lab01", handouts / "lab01")
    for _english, portuguese in HANDOUT_TWINS:
        (handouts / "lab01" / portuguese).write_text(
            committed(f"exercises/lab01/{portuguese}"), encoding="utf-8"
        )
    kit = tmp_path / "kit"
    build_release(kit, [load_lab("lab01")], {"lab01": SOLUTIONS / "lab01"}, handouts=handouts)
    for _english, portuguese in HANDOUT_TWINS:
        shipped = (kit / "exercises" / "lab01" / portuguese).read_text(encoding="utf-8")
        assert shipped == committed(f"exercises/lab01/{portuguese}")
    assert (kit / "README.pt-BR.md").is_file()
    assert "README.pt-BR.md" in (kit / "README.md").read_text(encoding="utf-8")


def test_progress_counts_the_checklist_the_student_ticked(tmp_path):
    """A student who ticks CHECKLIST.pt-BR.md: progress counts those ticks (and the
    readings they cite), in either language."""
    from attn_grade.progress import gather_progress

    folder = write_stubs("lab01", tmp_path / "work" / "lab01")
    text = committed("exercises/lab01/CHECKLIST.pt-BR.md").replace("- [ ]", "- [x]", 3)
    (folder / "CHECKLIST.pt-BR.md").write_text(text, encoding="utf-8")
    for lang in ("en", "pt"):
        lab01 = next(p for p in gather_progress(tmp_path / "work", lang).labs if p.lab == "lab01")
        assert lab01.checklist_done == 3 and lab01.readings_ticked, lang


def test_every_command_has_lang():
    """--lang on every command (reading's filters the resources, and shows the table in pt)."""
    import typer
    from attn_grade.cli import app

    commands = typer.main.get_command(app).commands
    lacking = sorted(name for name, command in commands.items()
                     if "--lang" not in {o for p in command.params for o in getattr(p, "opts", [])})
    assert not lacking, lacking


def test_no_message_is_marked_inside_an_f_string():
    """Babel's extractor does not look inside f-strings: a _("...") there would never reach
    the catalog, and stay English in every language."""
    import tokenize

    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        with path.open("rb") as handle:
            for token in tokenize.tokenize(handle.readline):
                prefix = re.match(r"[A-Za-z]*", token.string)[0].lower()
                if token.type == tokenize.STRING and "f" in prefix and re.search(
                    r"\b(_|N_)\(\s*[\"']", token.string
                ):
                    found.append(f"{path.relative_to(PACKAGE)}:{token.start[0]}")
    assert not found, found


# ------------------------------------------------------------ lab05's and lab06's own checks
def _check_with_reference(lab: str, folder: Path, lang: str) -> str:
    """`attn-grade check LAB --solutions` (the hidden tests run, the training test among
    them), as the terminal shows it."""
    environment = {**os.environ, "COLUMNS": "400", "NO_COLOR": "1", "LANG": "C.UTF-8"}
    for variable in ("ATTN_GRADE_LANG", "LC_ALL", "LC_MESSAGES"):
        environment.pop(variable, None)
    done = subprocess.run(
        [sys.executable, "-m", "attn_grade", "check", lab, "--path", str(folder), "--solutions",
         str(SOLUTIONS / lab), "--lang", lang, "--seed", "3", "--no-png"],
        cwd=KIT_ROOT, capture_output=True, text=True, env=environment, timeout=300,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert not done.stderr.strip(), done.stderr
    return done.stdout


def _catalog_fragments_in(text: str) -> list[str]:
    """The English pieces of the catalog's messages (three words or more) found in `text`."""
    flat = " ".join(text.split())
    fragments = set()
    for message in _catalog():
        if not message.id:
            continue
        for literal, *_rest in string.Formatter().parse(message.id):
            for piece in re.split(r"[.:;()\"]", literal):
                piece = " ".join(piece.split())
                if len(re.findall(r"(?<![\w.])[A-Za-z']{2,}(?![\w.(])", piece)) >= 3:
                    fragments.add(piece)
    return sorted(f for f in fragments if f in flat)


def test_lab06_training_verdict_in_portuguese(tmp_path):
    """A training loop that never updates, checked with --lang pt: the training test's
    verdict (losses, what was not met, the likely mistake) has no English sentence; the
    English report says what it said before."""
    folder = copy_reference("lab06", tmp_path / "lab06")
    shutil.copy(CORPUS / "lab06" / "train_never_updates" / "train.py", folder / "train.py")
    output = _check_with_reference("lab06", folder, "pt")
    for expected in ("perda em texto separado (nats por token, o forward da referência nos "
                     "seus parâmetros): modelo de atenção", "os seus históricos (primeiros 10 "
                     "passos -> últimos 10)", "não cumprido: modelo de atenção aprende: abaixo de",
                     "pelo menos 0.6 abaixo de um MLP treinado", "Erro provável: training-never-updates"):
        assert expected in " ".join(output.split()), expected
    assert not _catalog_fragments_in(output), _catalog_fragments_in(output)
    assert not _english_words(output), output
    english = " ".join(_check_with_reference("lab06", folder, "en").split())
    for expected in ("held-out loss (nats a token, the reference's forward on your "
                     "parameters): attention", "your histories (first 10 steps -> last 10): "
                     "attention", "not met: attention learns: below 2.203; attention at most "
                     "1.3; attention at least 0.6 below a trained MLP (its loss at most 2.22)",
                     "Likely mistake: training-never-updates"):
        assert expected in english, expected


def test_lab05_gradient_check_and_table_in_portuguese(tmp_path):
    """A backward that is not the gradient of the student's own forward, checked with
    --lang pt: the gradient tests' verdicts and the gradcheck table's are Portuguese,
    through the catalog like every other message; the English ones are as they were."""
    folder = copy_reference("lab05", tmp_path / "lab05")
    shutil.copy(CORPUS / "lab05" / "backward_scale_missing" / "backward.py", folder / "backward.py")
    output = _check_with_reference("lab05", folder, "pt")
    flat = " ".join(output.split())
    for expected in ("o seu backward não bate com o gradiente do seu próprio",
                     "ao longo de direções aleatórias (diferenças centradas do seu",
                     "gradcheck.txt bate com a medição que o corretor fez das suas funções nos"):
        assert expected in flat, expected
    assert not _catalog_fragments_in(output), _catalog_fragments_in(output)
    # the tests and deliverables (the checklist quotes readings' titles, the heatmap shows
    # the example's tokens, the student's script printed its own table: data, not prose)
    graded = output.split("Lista de verificação")[0]
    assert "Entregas" in graded and not _english_words(graded), graded
    english = " ".join(_check_with_reference("lab05", folder, "en").split())
    for expected in ("your backward does not match the gradient of your own",
                     "along random directions (centred differences of your",
                     "gradcheck.txt matches the grader's measurement of your functions on all"):
        assert expected in english, expected


def test_the_gradcheck_tables_verdicts_in_portuguese():
    """A table that does not match, lacks rows, or could not be measured: said in the
    translator's language (the one deliverables.py hands every check)."""
    from types import SimpleNamespace

    from attn_grade.checks.gradcheck_table import Unmeasured, check_table
    from attn_grade.labspec import DeliverableSpec
    from attn_grade.translation import N_, Sentence, gettext_for

    spec = DeliverableSpec("gradcheck", "script-gradcheck", "t", 2.0,
                           {"script": "gradcheck.py", "produces": "gradcheck.txt"})
    table = b"attention_backward dq 1e-11\nattention_backward dk 1e-11\n"
    said = {}
    for lang in ("pt", "en"):
        _ = gettext_for(lang)
        wrong = SimpleNamespace(files={"gradcheck.txt": table}, measured={
            ("attention_backward", "dq"): 0.3, ("attention_backward", "dk"): 1e-11})
        missing = SimpleNamespace(files={"gradcheck.txt": table}, measured={
            ("attention_backward", "dv"): 1e-11})
        unmeasured = SimpleNamespace(files={"gradcheck.txt": table}, measured={
            ("attention_backward", "dq"): Unmeasured(
                "attention_backward", Sentence(N_("it did not run")))})
        said[lang] = [check_table(spec, run, _) for run in (wrong, missing, unmeasured)]
    assert said["pt"] == [
        ("failed", "gradcheck.txt não bate com a medição que o corretor fez das suas funções: "
                   "attention_backward dq o seu 1.0e-11, o do corretor 3.0e-01"),
        ("incomplete", "gradcheck.txt não tem linha para attention_backward dv"),
        ("failed", "o corretor não conseguiu medir attention_backward dq: attention_backward: "
                   "não rodou"),
    ]
    assert said["en"] == [
        ("failed", "gradcheck.txt does not match the grader's measurement of your functions: "
                   "attention_backward dq yours 1.0e-11, the grader's 3.0e-01"),
        ("incomplete", "gradcheck.txt has no row for attention_backward dv"),
        ("failed", "the grader could not measure attention_backward dq: attention_backward: "
                   "it did not run"),
    ]


def test_a_wrong_return_is_worded_in_the_report_language(tmp_path):
    """The student process reports what came back (a type and a length); the grader words
    it, so a list of 3 where (out, weights) was expected reads in Portuguese too."""
    folder = _wrong_submission(tmp_path)
    (folder / "attention.py").write_text(
        "import numpy as np\n\n\ndef scaled_dot_product_attention(q, k, v, mask=None):\n"
        "    return [q, k, v]\n"
    )
    english = " ".join(_check(folder, "en").split())
    portuguese = " ".join(_check(folder, "pt").split())
    assert "scaled_dot_product_attention returned a list of 3" in english
    assert "scaled_dot_product_attention devolveu um list de 3 elementos" in portuguese
    assert "a list of 3" not in portuguese


def test_a_signature_with_prose_has_its_portuguese():
    """Signatures are code, but some carry prose ("your train() on both models"): those
    have a signature_pt, shown in Portuguese reports (a bad return, a missing function)."""
    from attn_grade.labspec import lab_ids, load_lab

    prose = re.compile(r"\b(your|steps? of|after each|before the start|on both)\b")
    for lab_id in lab_ids():
        for function in load_lab(lab_id).functions.values():
            if prose.search(function.signature):
                assert function.signature_pt, (lab_id, function.name)
                assert not prose.search(function.signature_in("pt")), (lab_id, function.name)
            assert function.signature_in("en") == function.signature


def test_the_checklist_heading_names_the_file_read(tmp_path):
    """A student who ticks the Portuguese checklist and checks in English sees which file
    the grader read (it used to say CHECKLIST.md over the Portuguese file's items)."""
    folder = _wrong_submission(tmp_path)
    (folder / "CHECKLIST.md").write_text(committed("exercises/lab01/CHECKLIST.md"), encoding="utf-8")
    ticked = committed("exercises/lab01/CHECKLIST.pt-BR.md").replace("- [ ]", "- [x]", 1)
    (folder / "CHECKLIST.pt-BR.md").write_text(ticked, encoding="utf-8")
    english = " ".join(_check(folder, "en").split())
    assert "Checklist (CHECKLIST.pt-BR.md)" in english
    portuguese = " ".join(_check(folder, "pt").split())
    assert "Lista de verificação (CHECKLIST.pt-BR.md)" in portuguese
