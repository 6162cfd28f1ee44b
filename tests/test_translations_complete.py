"""Completeness of the English (en) and Traditional Chinese (zh_Hant) catalogs.

Chinese msgids (public site, fetch problem sentences) need an English msgstr in
the en catalog. English msgids (models, admin) need a Chinese msgstr in the
zh_Hant catalog. The .po files are read with a small parser, because polib is
not a dependency.
"""

import ast
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.utils import translation

import govportal
from govportal.feeds.messages import MESSAGES, describe_both
from govportal.publicsite.translations import compile_translations

LOCALE_DIR = Path(govportal.__file__).resolve().parent / "locale"
ENGLISH_PO = LOCALE_DIR / "en/LC_MESSAGES/django.po"
CHINESE_PO = LOCALE_DIR / "zh_Hant/LC_MESSAGES/django.po"

CJK_PATTERN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# printf-style (%(name)s, %s, %d) and str.format-style ({name}, {}) placeholders.
PLACEHOLDER_PATTERN = re.compile(r"%\(\w+\)[sdifr]|%[sdifr]|\{[^{}]*\}")

needs_msgfmt = pytest.mark.skipif(
    shutil.which("msgfmt") is None, reason="msgfmt (GNU gettext) is not installed"
)


@dataclass
class Entry:
    """One message of a .po file."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and not self.obsolete


def read_po(path: Path) -> list[Entry]:
    """Parse a .po file into entries, the header entry included.

    Handles the subset that makemessages writes: flag comments, msgctxt,
    msgid, msgid_plural, msgstr and msgstr[N], continuation strings and
    obsolete (#~) entries.
    """
    entries: list[Entry] = []
    entry = Entry()
    seen_msgstr = False
    # The msgstr list index or field name that continuation strings extend.
    target: str | int | None = None

    def finish() -> None:
        nonlocal entry, seen_msgstr, target
        if seen_msgstr:
            entries.append(entry)
        entry = Entry()
        seen_msgstr = False
        target = None

    for line_number, raw_line in enumerate(
        path.read_text(encoding="utf-8").splitlines(), start=1
    ):
        line = raw_line.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()

        if not line:
            finish()
            continue
        if line.startswith("#"):
            if seen_msgstr:
                finish()
            if line.startswith("#,"):
                entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue

        if line.startswith('"'):
            value = ast.literal_eval(line)
            if isinstance(target, int):
                entry.msgstrs[target] += value
            elif target == "msgid":
                entry.msgid += value
            elif target == "msgid_plural":
                entry.msgid_plural = (entry.msgid_plural or "") + value
            elif target is None:
                raise ValueError(f"{path}:{line_number}: string outside an entry")
            continue

        keyword, _space, quoted = line.partition(" ")
        value = ast.literal_eval(quoted)
        if keyword in {"msgctxt", "msgid"} and seen_msgstr:
            finish()
        entry.obsolete = entry.obsolete or obsolete
        if keyword == "msgctxt":
            target = "msgctxt"
        elif keyword == "msgid":
            entry.msgid = value
            target = "msgid"
        elif keyword == "msgid_plural":
            entry.msgid_plural = value
            target = "msgid_plural"
        elif keyword == "msgstr" or keyword.startswith("msgstr["):
            entry.msgstrs.append(value)
            target = len(entry.msgstrs) - 1
            seen_msgstr = True
        else:
            raise ValueError(f"{path}:{line_number}: unknown keyword {keyword!r}")
    finish()
    return entries


def messages(path: Path) -> list[Entry]:
    """Return the live entries of a catalog, without the header and obsolete ones."""
    return [
        entry for entry in read_po(path) if not entry.is_header and not entry.obsolete
    ]


def has_cjk(text: str) -> bool:
    return CJK_PATTERN.search(text) is not None


def has_words(text: str) -> bool:
    """Return True when text has letters left once its placeholders are removed."""
    return any(character.isalpha() for character in PLACEHOLDER_PATTERN.sub("", text))


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER_PATTERN.findall(text))


def source_for_form(entry: Entry, index: int) -> str:
    """Return the msgid that msgstr[index] translates: the plural from form 1 on."""
    if index > 0 and entry.msgid_plural is not None:
        return entry.msgid_plural
    return entry.msgid


@pytest.fixture
def compiled_locale(tmp_path: Path, settings) -> Path:
    """Compile copies of both catalogs and make them Django's LOCALE_PATHS.

    Changing LOCALE_PATHS through the settings fixture makes Django drop its
    cached catalogs, so the copies are the ones loaded.
    """
    locale_dir = tmp_path / "locale"
    for po_file in (ENGLISH_PO, CHINESE_PO):
        target = locale_dir / po_file.relative_to(LOCALE_DIR)
        target.parent.mkdir(parents=True)
        shutil.copy(po_file, target)
    compile_translations([locale_dir])
    settings.LOCALE_PATHS = [locale_dir]
    return locale_dir


def test_po_parser_reads_plural_entry():
    entries = read_po(ENGLISH_PO)
    entry = next(entry for entry in entries if entry.msgid == "%(counter)s 則")

    assert entries[0].is_header
    assert entry.msgid_plural == "%(counter)s 則"
    assert entry.msgstrs == ["%(counter)s item", "%(counter)s items"]
    assert "python-format" in entry.flags


@pytest.mark.parametrize("po_file", [ENGLISH_PO, CHINESE_PO], ids=["en", "zh_Hant"])
def test_catalog_has_no_fuzzy_entries(po_file):
    fuzzy = [entry.msgid for entry in read_po(po_file) if "fuzzy" in entry.flags]

    assert fuzzy == []


def test_chinese_msgids_have_english():
    entries = [entry for entry in messages(ENGLISH_PO) if has_cjk(entry.msgid)]
    untranslated = [
        entry.msgid
        for entry in entries
        if not entry.msgstrs or not all(msgstr.strip() for msgstr in entry.msgstrs)
    ]

    assert len(entries) > 70
    assert untranslated == []


def test_english_translations_have_no_chinese():
    mixed = [
        msgstr
        for entry in messages(ENGLISH_PO)
        for msgstr in entry.msgstrs
        if has_cjk(msgstr)
    ]

    assert mixed == []


def test_english_msgids_have_chinese():
    entries = [
        entry
        for entry in messages(CHINESE_PO)
        if not has_cjk(entry.msgid) and has_words(entry.msgid)
    ]
    untranslated = [
        entry.msgid
        for entry in entries
        if not entry.msgstrs or not all(msgstr.strip() for msgstr in entry.msgstrs)
    ]

    assert len(entries) > 50
    assert untranslated == []


@pytest.mark.parametrize("po_file", [ENGLISH_PO, CHINESE_PO], ids=["en", "zh_Hant"])
def test_placeholders_match_msgid(po_file):
    mismatches = []
    for entry in messages(po_file):
        for index, msgstr in enumerate(entry.msgstrs):
            source = source_for_form(entry, index)
            if msgstr and placeholders(msgstr) != placeholders(source):
                mismatches.append((source, msgstr))

    assert mismatches == []


def test_problem_sentences_in_english_catalog():
    # The fetch problem sentences reach operators through describe_both(), so
    # a missing English entry would show Chinese on both sides.
    translated = {
        entry.msgid for entry in messages(ENGLISH_PO) if entry.msgstrs[0].strip()
    }
    with translation.override(None):
        msgids = [str(message) for message in MESSAGES.values()]

    assert len(msgids) == len(MESSAGES)
    assert [msgid for msgid in msgids if msgid not in translated] == []


@needs_msgfmt
def test_describe_both_timeout(compiled_locale):
    texts = describe_both("timeout")

    assert texts["zh-hant"] == "機關網站未在時限內傳回內容（逾時）。"
    assert texts["en"] != texts["zh-hant"]
    assert "time" in texts["en"]


@needs_msgfmt
def test_describe_both_fills_status(compiled_locale):
    texts = describe_both("http_status", {"status": 503})

    assert "503" in texts["zh-hant"]
    assert "503" in texts["en"]
    assert texts["en"].startswith("The agency's website")


@needs_msgfmt
def test_admin_label_in_chinese(compiled_locale):
    from govportal.feeds.models import Feed

    with translation.override("zh-hant"):
        label = str(Feed._meta.get_field("last_success_at").verbose_name)

    assert label == "最後成功擷取時間"
