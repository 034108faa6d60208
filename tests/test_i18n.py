"""Korean and English: the catalogs, the language of a script run, and the extraction test that fails when a
user-facing string has no Korean translation."""
from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dlviz import i18n
from dlviz.i18n import po

ROOT = Path(__file__).resolve().parent.parent


def test_every_string_of_the_code_has_a_korean_translation():
    found, problems = po.extract(po.source_files(ROOT), ROOT)
    assert not problems, "t() needs a literal message id:\n" + "\n".join(problems)
    assert len(found) > 50, "the extraction found almost nothing: is t() still the marker?"
    korean = i18n.catalog("ko")
    missing = [f"{msgid!r} ({', '.join(where)})" for msgid, where in found.items() if not korean.get(msgid)]
    assert not missing, (f"{len(missing)} strings have no Korean translation; run `python -m dlviz.i18n` and "
                         "fill their msgstr in dlviz/i18n/ko.po:\n" + "\n".join(missing[:40]))


def test_translations_keep_every_field_of_the_english_text():
    """A translation that drops or renames a {field} would raise (or lose a number) at run time."""
    import string

    def fields(s: str) -> set[str]:
        return {f for _, f, _, _ in string.Formatter().parse(s) if f}

    bad = [k for k, v in i18n.catalog("ko").items() if fields(k) != fields(v)]
    assert not bad, f"fields differ between English and Korean: {bad[:10]}"


def test_the_notes_terms_are_used():
    ko = i18n.catalog("ko")
    assert ko["Pooling"] == "풀링"
    assert "합성곱" in ko["Convolution"]
    assert "특징 맵" in " ".join(v for k, v in ko.items() if "feature map" in k.lower())


def test_po_roundtrip_with_escapes_and_continued_lines():
    entries = {"Say \"hi\"\nthen {n} \\ tabs\t": "“안녕”\n다음 {n} \\ 탭\t", "plain": ""}
    text = po.write_po(entries, "ko", {"plain": ["pages/x.py"]})
    assert "#: pages/x.py" in text
    back = po.read_po(text)
    assert back["Say \"hi\"\nthen {n} \\ tabs\t"] == "“안녕”\n다음 {n} \\ 탭\t" and back["plain"] == ""
    assert po.read_po('msgid ""\n"long "\n"id"\nmsgstr "긴 "\n"번역"\n') == {"long id": "긴 번역"}
    with pytest.raises(ValueError, match="line 2"):
        po.read_po('msgid "a"\nmsgstr unquoted\n')


def test_extraction_finds_literals_and_refuses_fstrings(tmp_path):
    (tmp_path / "m.py").write_text('from dlviz.i18n import t, N_\nA = N_("Title")\nt("Hello {n}", n=1)\n'
                                   'i18n.t("Dotted")\nt(f"bad {A}")\nprint("not marked")\n')
    found, problems = po.extract([tmp_path / "m.py"], tmp_path)
    assert set(found) == {"Title", "Hello {n}", "Dotted"}
    assert len(problems) == 1 and "m.py:5" in problems[0]


def test_language_per_context_and_fallbacks():
    i18n.set_language("ko-KR")
    try:
        assert i18n.language() == "ko" and i18n.t("Pooling") == "풀링"
        assert i18n.t("a string nobody translated {x}", x=3) == "a string nobody translated 3"
        seen = {}
        worker = threading.Thread(target=lambda: seen.setdefault("lang", i18n.language()))
        worker.start()
        worker.join()
        assert seen["lang"] == "en"                      # another thread (session) is not affected
    finally:
        i18n.set_language("en")
    i18n.set_language("fr")
    assert i18n.language() == "en"


def test_resolver_answers_where_no_language_was_set():
    """A fragment rerun runs on a thread where app.py did not set the language: the session's choice is used."""
    seen = {}

    def fragment_thread():
        seen["before"] = i18n.language()
        i18n.set_resolver(lambda: "ko")
        try:
            seen["resolved"] = i18n.t("Pooling")
            i18n.set_resolver(lambda: 1 / 0)             # no session here: English, no exception
            seen["broken"] = i18n.language()
        finally:
            i18n.set_resolver(None)

    worker = threading.Thread(target=fragment_thread)
    worker.start()
    worker.join()
    assert seen == {"before": "en", "resolved": "풀링", "broken": "en"}
