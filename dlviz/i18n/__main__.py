"""`python -m dlviz.i18n`: add the code's new t("...") strings to every catalog (empty translation), report the
untranslated and the unused ones. Existing translations are never changed; unused entries are kept (another
developer's branch may still use them) unless `--prune` is given."""
from __future__ import annotations

import sys
from pathlib import Path

from dlviz.i18n import CATALOG_DIR, DEFAULT, LANGUAGES
from dlviz.i18n.po import extract, read_po, source_files, write_po

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str]) -> int:
    found, problems = extract(source_files(ROOT), ROOT)
    for p in problems:
        print(p)
    for lang in LANGUAGES:
        if lang == DEFAULT:
            continue
        path = CATALOG_DIR / f"{lang}.po"
        old = read_po(path.read_text(encoding="utf-8")) if path.exists() else {}
        merged = {k: old.get(k, "") for k in found}
        unused = [k for k in old if k and k not in found]
        if "--prune" not in argv:
            merged.update({k: old[k] for k in unused})
        path.write_text(write_po(merged, lang, found), encoding="utf-8")
        missing = [k for k in found if not merged[k]]
        print(f"{lang}: {len(found)} strings, {len(missing)} untranslated, {len(unused)} unused"
              + (" (pruned)" if "--prune" in argv else ""))
        for k in missing:
            print("   untranslated:", k[:100])
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
