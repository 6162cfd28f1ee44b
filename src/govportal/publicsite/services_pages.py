"""The service pages (服務指引) of the public site, in Chinese and English.

Every page belongs to a ``PageKey``: the services index, one life-event list,
one agency list or one service's detail page, per language. The keys and the
folders of their pages follow from the content alone, so the incremental
publish (``incremental``) can re-render the keys that one change touches and
list the same sitemap as a full build.
"""

from collections.abc import Sequence
from typing import Any, NamedTuple, Protocol

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext

from govportal.services.vocabularies import LIFE_EVENTS, METHODS, term_by_slug

from .paths import SitePaths, is_web_url
from .render import SITE_LANGUAGE, SiteRenderer, page_label, pagination_links
from .services_content import ServiceContent, ServiceEntry

ENGLISH = "en"
LANGUAGES = (SITE_LANGUAGE, ENGLISH)
# HTML lang attribute values of the two languages.
HTML_LANG = {SITE_LANGUAGE: "zh-Hant-TW", ENGLISH: "en"}
DEFAULT_PAGE_SIZE = 50
# List pages show at most this many characters of a service's summary.
LIST_SUMMARY_CHARS = 120


class PageKey(NamedTuple):
    """A group of pages rendered together.

    ``kind`` is "index", "category", "agency" or "service". ``key`` is "" for
    the index, a life-event slug, an agency key, or a service's ``key``.
    """

    kind: str
    language: str
    key: str


def field_text(entry: ServiceEntry, stem: str, language: str) -> str:
    suffix = "_en" if language == ENGLISH else "_zh"
    return entry.text(stem + suffix)


def service_name(entry: ServiceEntry, language: str) -> str:
    return field_text(entry, "name", language)


def excerpt(text: str, limit: int = LIST_SUMMARY_CHARS) -> str:
    """Cut text to ``limit`` characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + "…"


class ServicePages:
    """Plans and renders the service pages with a ``SiteRenderer``."""

    def __init__(self, renderer: SiteRenderer, content: ServiceContent) -> None:
        self.renderer = renderer
        self.paths: SitePaths = renderer.paths
        self.page_size = max(
            1, int(getattr(settings, "SITE_SERVICES_PAGE_SIZE", DEFAULT_PAGE_SIZE))
        )
        self.by_key = {entry.key: entry for entry in content.services}
        self.entries = {
            SITE_LANGUAGE: self._sorted(content.services, SITE_LANGUAGE),
            ENGLISH: self._sorted(
                [entry for entry in content.services if entry.has_english], ENGLISH
            ),
        }
        self.categories: dict[str, dict[str, list[ServiceEntry]]] = {}
        self.agencies: dict[str, dict[str, list[ServiceEntry]]] = {}
        for language in LANGUAGES:
            categories: dict[str, list[ServiceEntry]] = {
                term.slug: [] for term in LIFE_EVENTS
            }
            agencies: dict[str, list[ServiceEntry]] = {}
            for entry in self.entries[language]:
                for slug in entry.categories:
                    categories[slug].append(entry)
                agencies.setdefault(entry.agency_key, []).append(entry)
            self.categories[language] = categories
            self.agencies[language] = dict(sorted(agencies.items()))

    @staticmethod
    def _sorted(entries: list[ServiceEntry], language: str) -> list[ServiceEntry]:
        return sorted(
            entries,
            key=lambda entry: (
                service_name(entry, language),
                entry.agency_key,
                entry.service_id,
            ),
        )

    # The plan: which keys exist and which folders their pages use.

    def keys(self) -> list[PageKey]:
        """Return every page key in the order the sitemap lists them."""
        keys: list[PageKey] = []
        for language in LANGUAGES:
            keys.append(PageKey("index", language, ""))
            keys += [PageKey("category", language, term.slug) for term in LIFE_EVENTS]
            agency_keys = self.agencies[language]
            keys += [PageKey("agency", language, key) for key in agency_keys]
            keys += [
                PageKey("service", language, entry.key)
                for entry in sorted(self.entries[language], key=lambda entry: entry.key)
            ]
        return keys

    def has_key(self, key: PageKey) -> bool:
        if key.kind == "index":
            return True
        if key.kind == "category":
            return key.key in self.categories[key.language]
        if key.kind == "agency":
            return key.key in self.agencies[key.language]
        entry = self.by_key.get(key.key)
        return entry is not None and (key.language != ENGLISH or entry.has_english)

    def folders(self, key: PageKey) -> list[str]:
        """Return the page folders of a key, first page first."""
        root = self.paths.services_root(key.language)
        if key.kind == "index":
            return [root]
        if key.kind == "service":
            agency_key, service_id = key.key.split("/", 1)
            return [self.paths.service_folder(key.language, agency_key, service_id)]
        kind = "categories" if key.kind == "category" else "agencies"
        entries = self.list_entries(key)
        page_count = max(1, -(-len(entries) // self.page_size))
        return [
            self.paths.service_list_folder(key.language, kind, key.key, number)
            for number in range(1, page_count + 1)
        ]

    def list_entries(self, key: PageKey) -> list[ServiceEntry]:
        if key.kind == "category":
            return self.categories[key.language][key.key]
        return self.agencies[key.language][key.key]

    def all_folders(self) -> list[str]:
        return [folder for key in self.keys() for folder in self.folders(key)]

    # Rendering.

    def render_all(self) -> None:
        for key in self.keys():
            self.render_key(key)

    def render_key(self, key: PageKey) -> None:
        """Render the pages of one key in its language."""
        with translation.override(key.language):
            if key.kind == "index":
                self.render_index(key.language)
            elif key.kind == "service":
                self.render_detail(self.by_key[key.key], key.language)
            else:
                self.render_list(key)

    def url(self, folder: str) -> str:
        return self.paths.service_url(folder)

    def index_url(self, language: str) -> str:
        return self.paths.url(self.paths.services_root(language))

    def category_url(self, language: str, slug: str) -> str:
        return self.url(self.paths.service_list_folder(language, "categories", slug))

    def agency_url(self, language: str, agency_key: str) -> str:
        folder = self.paths.service_list_folder(language, "agencies", agency_key)
        return self.url(folder)

    def detail_url(self, language: str, entry: ServiceEntry) -> str:
        folder = self.paths.service_folder(language, entry.agency_key, entry.service_id)
        return self.url(folder)

    def agency_name(self, entry: ServiceEntry, language: str) -> dict[str, str]:
        """Return the agency's name in the language, or the Chinese name and lang."""
        if language == ENGLISH and entry.agency_name_en:
            return {"text": entry.agency_name_en, "lang": ""}
        lang = HTML_LANG[SITE_LANGUAGE] if language == ENGLISH else ""
        return {"text": entry.agency_name_zh, "lang": lang}

    def crumbs(self, language: str) -> list[tuple[str, str]]:
        return [
            (gettext("首頁"), self.renderer.site["home_url"]),
            (gettext("服務指引"), self.index_url(language)),
        ]

    def render_index(self, language: str) -> None:
        categories = []
        for term in LIFE_EVENTS:
            categories.append(
                {
                    "name": term.name_en if language == ENGLISH else term.name_zh,
                    "url": self.category_url(language, term.slug),
                    "count": len(self.categories[language][term.slug]),
                }
            )
        agencies: list[dict[str, Any]] = []
        for agency_key, entries in self.agencies[language].items():
            agencies.append(
                {
                    "name": self.agency_name(entries[0], language),
                    "url": self.agency_url(language, agency_key),
                    "count": len(entries),
                }
            )
        agencies.sort(key=lambda agency: (agency["name"]["text"], agency["url"]))
        self.renderer.write_folder_page(
            self.paths.services_root(language),
            "publicsite/service_index.html",
            {
                "categories": categories,
                "agencies": agencies,
                "service_count": len(self.entries[language]),
                "breadcrumbs": self.crumbs(language),
                "page_kind": "services",
                "alternates": self.alternates(
                    self.index_url(SITE_LANGUAGE), self.index_url(ENGLISH)
                ),
            },
        )

    def alternates(self, zh_url: str, en_url: str) -> list[dict[str, str]]:
        """Return the hreflang links of a page that exists in both languages."""
        return [
            {"hreflang": HTML_LANG[SITE_LANGUAGE], "url": zh_url},
            {"hreflang": HTML_LANG[ENGLISH], "url": en_url},
        ]

    def list_item(self, entry: ServiceEntry, language: str) -> dict[str, Any]:
        return {
            "name": service_name(entry, language),
            "url": self.detail_url(language, entry),
            "agency": self.agency_name(entry, language),
            "summary": excerpt(field_text(entry, "summary", language)),
        }

    def render_list(self, key: PageKey) -> None:
        language = key.language
        entries = self.list_entries(key)
        folders = self.folders(key)
        if key.kind == "category":
            term = term_by_slug(LIFE_EVENTS, key.key)
            assert term is not None  # Category keys come from LIFE_EVENTS.
            title = term.name_en if language == ENGLISH else term.name_zh
            title_lang = ""
            other = "categories"
        else:
            name = self.agency_name(entries[0], language)
            title, title_lang = name["text"], name["lang"]
            other = "agencies"
        total = len(folders)

        def url_for(number: int) -> str:
            return self.url(folders[number - 1])

        alternates = self.alternates(
            self.url(self.paths.service_list_folder(SITE_LANGUAGE, other, key.key)),
            self.url(self.paths.service_list_folder(ENGLISH, other, key.key)),
        )
        breadcrumbs = [*self.crumbs(language), (title, url_for(1))]
        for number, start in enumerate(range(0, max(1, len(entries)), self.page_size)):
            page_number = number + 1
            page_entries = entries[start : start + self.page_size]
            position = ""
            if total > 1:
                position = gettext("（第 %(number)s 頁，共 %(total)s 頁）") % {
                    "number": page_number,
                    "total": total,
                }
            context = {
                "title": title,
                "title_lang": title_lang,
                "breadcrumbs": breadcrumbs,
                "items": [self.list_item(entry, language) for entry in page_entries],
                "total_count": len(entries),
                "page_position": position,
                "page_number": page_number,
                "page_label": page_label(page_number),
                "page_links": (
                    pagination_links(page_number, total, url_for) if total > 1 else []
                ),
                "previous_url": url_for(page_number - 1) if page_number > 1 else "",
                "next_url": url_for(page_number + 1) if page_number < total else "",
                "page_kind": "service_list",
                "alternates": alternates if self.has_english_list(key) else [],
            }
            self.renderer.write_folder_page(
                folders[number], "publicsite/service_list.html", context
            )

    def has_english_list(self, key: PageKey) -> bool:
        english_key = PageKey(key.kind, ENGLISH, key.key)
        return self.has_key(english_key)

    def render_detail(self, entry: ServiceEntry, language: str) -> None:
        categories = []
        for slug in entry.categories:
            term = term_by_slug(LIFE_EVENTS, slug)
            if term is not None:
                categories.append(
                    {
                        "name": term.name_en if language == ENGLISH else term.name_zh,
                        "url": self.category_url(language, slug),
                    }
                )
        name = service_name(entry, language)
        zh_url = self.detail_url(SITE_LANGUAGE, entry)
        en_url = self.detail_url(ENGLISH, entry) if entry.has_english else ""
        agency = self.agency_name(entry, language)
        breadcrumbs = [
            *self.crumbs(language),
            (agency["text"], self.agency_url(language, entry.agency_key)),
            (name, self.detail_url(language, entry)),
        ]
        self.renderer.write_folder_page(
            self.paths.service_folder(language, entry.agency_key, entry.service_id),
            "publicsite/service_detail.html",
            {
                "name": name,
                "summary": field_text(entry, "summary", language),
                "agency": agency,
                "agency_url": self.agency_url(language, entry.agency_key),
                "rows": service_rows(entry, language),
                "categories": categories,
                "is_english": language == ENGLISH,
                "english_url": en_url,
                "chinese_url": zh_url,
                "alternates": self.alternates(zh_url, en_url) if en_url else [],
                "breadcrumbs": breadcrumbs,
                "page_kind": "service",
            },
        )


def service_rows(entry: ServiceEntry, language: str) -> list[dict[str, str]]:
    """Return the labelled rows of a detail page in reading order, without empty ones.

    Call within ``translation.override`` for the page language. Each row has a
    label and one of: ``text`` (with line breaks), ``url`` or ``email``.
    """
    english = language == ENGLISH
    method_names = []
    for slug in entry.terms("methods"):
        term = term_by_slug(METHODS, slug)
        if term is not None:
            method_names.append(term.name_en if english else term.name_zh)
    methods = (", " if english else "、").join(method_names)
    method_details = field_text(entry, "method_details", language)
    how_to_apply = "\n".join(part for part in (methods, method_details) if part)
    application_url = entry.text("application_url")

    candidates = [
        (gettext("服務內容"), "text", field_text(entry, "content", language)),
        (gettext("申辦資格"), "text", field_text(entry, "eligibility", language)),
        (gettext("申辦方式"), "text", how_to_apply),
        (gettext("應備文件"), "text", field_text(entry, "documents", language)),
        (gettext("處理期限"), "text", field_text(entry, "processing_time", language)),
        (gettext("收費標準"), "text", field_text(entry, "fees", language)),
        (gettext("承辦單位"), "text", field_text(entry, "handling_unit", language)),
        (gettext("聯絡電話"), "text", entry.text("contact_phone")),
        (gettext("電子郵件"), "email", entry.text("contact_email")),
        (gettext("相關法規"), "text", field_text(entry, "legal_basis", language)),
        (
            gettext("線上申辦"),
            "url",
            application_url if is_web_url(application_url) else "",
        ),
        (gettext("備註"), "text", field_text(entry, "notes", language)),
    ]
    return [{"label": label, kind: value} for label, kind, value in candidates if value]


class ServiceIdentity(Protocol):
    """What decides on which pages a service appears."""

    @property
    def key(self) -> str: ...

    @property
    def agency_key(self) -> str: ...

    @property
    def categories(self) -> list[str]: ...


def touched_keys(entries: Sequence[ServiceIdentity | None]) -> set[PageKey]:
    """Return the keys whose pages show any of the given service versions.

    Pass the service as the previous build showed it and as it is now (either
    may be None), so that lists it left are re-rendered as well.
    """
    keys: set[PageKey] = set()
    for language in LANGUAGES:
        keys.add(PageKey("index", language, ""))
        for entry in entries:
            if entry is None:
                continue
            keys.add(PageKey("service", language, entry.key))
            keys.add(PageKey("agency", language, entry.agency_key))
            for slug in entry.categories:
                keys.add(PageKey("category", language, slug))
    return keys
