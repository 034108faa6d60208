"""gettext `.po` catalogs: a small reader and writer, and the extraction of `t("...")` strings from the code.

Only what dlviz uses of the format: `msgid` / `msgstr` pairs (strings may continue on following lines), `#`
comments (kept as written for the translator: `#:` lines say where a string is used), the escapes \\n \\t \\" \\\\.
Plural forms and contexts are not used (a number goes into the sentence through a `{field}`).
"""
from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from pathlib import Path

_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(token: str) -> str:
    body = token.strip()
    if not (body.startswith('"') and body.endswith('"')):
        raise ValueError(f"not a quoted po string: {token!r}")
    return re.sub(r'\\(.)', lambda m: _ESCAPES.get(m.group(1), m.group(1)), body[1:-1])


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t") + '"'


def read_po(text: str) -> dict[str, str]:
    """msgid -> msgstr, in file order. The header entry (empty msgid) is kept under ''."""
    entries: dict[str, str] = {}
    msgid: list[str] | None = None
    msgstr: list[str] | None = None
    current: list[str] | None = None

    def flush():
        if msgid is not None and msgstr is not None:
            entries["".join(msgid)] = "".join(msgstr)

    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            if line.startswith("msgid "):
                flush()
                msgid, msgstr = [_unquote(line[6:])], None
                current = msgid
            elif line.startswith("msgstr "):
                msgstr = [_unquote(line[7:])]
                current = msgstr
            elif line.startswith('"') and current is not None:
                current.append(_unquote(line))
            else:
                raise ValueError(f"unexpected: {line[:60]!r}")
        except ValueError as e:
            raise ValueError(f"line {n}: {e}") from None
    flush()
    return entries


HEADER = ('msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n"Language: {lang}\\n"\n')


def write_po(entries: dict[str, str], language: str, where: dict[str, list[str]] | None = None) -> str:
    """A catalog with one entry per msgid (the header is written from `language`), `#:` lines from `where`."""
    out = [HEADER.format(lang=language)]
    for msgid, msgstr in entries.items():
        if not msgid:
            continue
        refs = (where or {}).get(msgid)
        out.append(("#: " + " ".join(refs[:3]) + "\n" if refs else "") +
                   f"msgid {_quote(msgid)}\nmsgstr {_quote(msgstr)}\n")
    return "\n".join(out)


# --------------------------------------------------------------------------- extraction

MARKERS = ("t", "N_")      # t("...") translates now; N_("...") marks a constant translated later with t(value)


def _marker(call: ast.Call) -> str | None:
    f = call.func
    name = f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None
    return name if name in MARKERS else None


def extract(files: Iterable[Path], root: Path) -> tuple[dict[str, list[str]], list[str]]:
    """The literal strings given to t()/N_() in `files` -> the files using them; and the calls that are not
    literal (an f-string or a variable given to `t` can never be found in a catalog: `t("{n} maps", n=n)`)."""
    found: dict[str, list[str]] = {}
    problems: list[str] = []
    for path in sorted(files):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(root).as_posix()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not _marker(node) or not node.args:
                continue
            arg = node.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                refs = found.setdefault(arg.value, [])
                if rel not in refs:             # files, not lines: a catalog that does not churn with every edit
                    refs.append(rel)
            elif isinstance(arg, ast.JoinedStr) and _marker(node) == "t":
                problems.append(f"{rel}:{node.lineno}: t() of an f-string (use fields: t(\"... {{n}}\", n=...))")
    return found, problems


def source_files(root: Path) -> list[Path]:
    """The code whose strings users see: app.py, pages/ and dlviz/ (tests and benches are not shown)."""
    return [root / "app.py", *sorted((root / "pages").glob("*.py")), *sorted((root / "dlviz").rglob("*.py"))]
