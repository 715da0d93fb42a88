"""Ukrainian is the default language: every translatable string must have a translation."""

from pathlib import Path

import polib
import pytest

LOCALE = Path(__file__).resolve().parents[1] / "locale"


@pytest.mark.parametrize("domain", ["django"])
def test_it_has_a_ukrainian_translation_for_every_string(domain):
    catalog = polib.pofile(str(LOCALE / "uk" / "LC_MESSAGES" / f"{domain}.po"))
    missing = [
        entry.msgid
        for entry in catalog
        if not entry.obsolete and (not entry.translated() or "fuzzy" in entry.flags)
    ]
    assert missing == []


def test_the_compiled_catalog_is_newer_than_its_source():
    po = LOCALE / "uk" / "LC_MESSAGES" / "django.po"
    mo = po.with_suffix(".mo")
    compiled = polib.mofile(str(mo))
    source = polib.pofile(str(po))
    assert {e.msgid for e in compiled if e.msgstr} >= {
        e.msgid for e in source if e.translated() and not e.msgid_plural and e.msgid
    }
