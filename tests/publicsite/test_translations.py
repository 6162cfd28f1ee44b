import gettext
import re
import shutil
from pathlib import Path

import pytest

from govportal.publicsite import translations
from govportal.publicsite.build import build_site
from govportal.publicsite.translations import (
    TranslationCompileError,
    compile_translations,
)

from .personas import BUILD_TIME

PACKAGE_DIR = Path(translations.__file__).resolve().parents[1]
ENGLISH_PO = PACKAGE_DIR / "locale/en/LC_MESSAGES/django.po"
PUBLICSITE_DIR = PACKAGE_DIR / "publicsite"

needs_msgfmt = pytest.mark.skipif(
    shutil.which("msgfmt") is None, reason="msgfmt (GNU gettext) is not installed"
)


@pytest.fixture
def locale_copy(tmp_path: Path) -> Path:
    """Copy the English catalog into a scratch LOCALE_PATHS folder."""
    target = tmp_path / "locale/en/LC_MESSAGES/django.po"
    target.parent.mkdir(parents=True)
    shutil.copy(ENGLISH_PO, target)
    return tmp_path / "locale"


def load_catalog(locale_dir: Path) -> gettext.GNUTranslations:
    with open(locale_dir / "en/LC_MESSAGES/django.mo", "rb") as mo_file:
        return gettext.GNUTranslations(mo_file)


def template_msgids() -> list[tuple[str, bool]]:
    """Return (msgid, is_plural) for every literal marked in the templates and code.

    Handles the forms these files use: {% translate "..." %}, single-line
    {% blocktranslate %} blocks and gettext("...") calls.
    """
    msgids: list[tuple[str, bool]] = []
    for template in sorted((PUBLICSITE_DIR / "templates").rglob("*.html")):
        text = template.read_text(encoding="utf-8")
        for match in re.finditer(r'{% translate "([^"]+)"', text):
            msgids.append((match.group(1), False))
        for match in re.finditer(
            r"{% blocktranslate ([^%]*)%}(.*?){% (plural|endblocktranslate) %}", text
        ):
            arguments, body, _end = match.groups()
            msgid = re.sub(r"{{ (\w+) }}", r"%(\1)s", body.strip())
            is_plural = re.search(r"(^|\s)count\s", arguments) is not None
            msgids.append((msgid, is_plural))
    for module in sorted(PUBLICSITE_DIR.glob("*.py")):
        for match in re.finditer(r'gettext\("([^"]+)"\)', module.read_text("utf-8")):
            msgids.append((match.group(1), False))
    return msgids


@needs_msgfmt
def test_catalog_compiles_once(locale_copy):
    written = compile_translations([locale_copy])

    mo_file = locale_copy / "en/LC_MESSAGES/django.mo"
    assert written == [mo_file]
    assert mo_file.is_file()
    assert compile_translations([locale_copy]) == []


@needs_msgfmt
def test_catalog_translates_to_english(locale_copy):
    compile_translations([locale_copy])
    catalog = load_catalog(locale_copy)

    assert catalog.gettext("最新消息") == "Latest news"
    assert catalog.gettext("跳到主要內容") == "Skip to main content"
    singular = catalog.ngettext("%(counter)s 則", "%(counter)s 則", 1)
    plural = catalog.ngettext("%(counter)s 則", "%(counter)s 則", 2)
    assert singular == "%(counter)s item"
    assert plural == "%(counter)s items"


@needs_msgfmt
def test_every_marked_string_translated(locale_copy):
    compile_translations([locale_copy])
    catalog = load_catalog(locale_copy)
    msgids = template_msgids()

    assert len(msgids) > 40
    missing = []
    for msgid, is_plural in msgids:
        if is_plural:
            translated = catalog.ngettext(msgid, msgid, 2)
        else:
            translated = catalog.gettext(msgid)
        if translated == msgid:
            missing.append(msgid)
    assert missing == []


@needs_msgfmt
def test_invalid_catalog_raises(tmp_path):
    po_file = tmp_path / "locale/en/LC_MESSAGES/django.po"
    po_file.parent.mkdir(parents=True)
    po_file.write_text(
        '#, python-format\nmsgid "a %(name)s"\nmsgstr "b %(other)d"\n',
        encoding="utf-8",
    )

    with pytest.raises(TranslationCompileError, match="msgfmt failed on"):
        compile_translations([tmp_path / "locale"])

    assert list(po_file.parent.iterdir()) == [po_file]


def test_missing_msgfmt_logs_warning(locale_copy, monkeypatch, caplog):
    monkeypatch.setattr(translations.shutil, "which", lambda name: None)

    assert compile_translations([locale_copy]) == []

    assert "msgfmt not found" in caplog.text
    assert not (locale_copy / "en/LC_MESSAGES/django.mo").exists()


@needs_msgfmt
def test_read_only_locale_logs_warning(locale_copy, monkeypatch, caplog):
    def failing_mkstemp(**kwargs):
        raise PermissionError(13, "Permission denied", kwargs["dir"])

    monkeypatch.setattr(translations.tempfile, "mkstemp", failing_mkstemp)

    assert compile_translations([locale_copy]) == []

    assert "Cannot write" in caplog.text
    assert "Permission denied" in caplog.text


@needs_msgfmt
@pytest.mark.django_db
def test_build_compiles_catalogs(site_dir, settings, locale_copy):
    settings.LOCALE_PATHS = [locale_copy]

    build_site(now=BUILD_TIME)

    assert (locale_copy / "en/LC_MESSAGES/django.mo").is_file()
