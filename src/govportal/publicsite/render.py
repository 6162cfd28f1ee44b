"""Rendering of the site's pages into a folder.

Each repeated piece is rendered once per build, which keeps builds fast. Every
news item becomes one HTML fragment that all list pages reuse. The page chrome
(head, header and footer, with their translated texts) is rendered once per
kind of page.
"""

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TypedDict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, gettext

from .content import AgencyGroup, NewsEntry, SiteContent, format_local_time
from .paths import SitePaths
from .syndication import RSS_FILE, render_rss, render_sitemap

# The pages are Traditional Chinese, which is also the msgid language.
SITE_LANGUAGE = "zh-hant"
HOME_NEWS_COUNT = 20
STATIC_SOURCE_DIR = Path(__file__).resolve().parent / "static" / "publicsite"
STATIC_TARGET = "static"
# The folder of the camera section (即時影像).
CAMERAS_FOLDER = "cameras"
# The same policy as the one `govportal serve` sends as a header, for web servers
# that send none. frame-ancestors only works as a header, so it is left out here.
# Summaries carry no images (the sanitizer removes them), so only the site's own
# icon is an image.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'"
)


def content_security_policy_with(policy: str, additions: dict[str, str]) -> str:
    """Return ``policy`` with sources added to directives, adding missing ones.

    ``additions`` maps a directive name such as ``img-src`` to the sources to
    append, separated by spaces. A directive whose only source is 'none' gets
    the added sources in place of it.
    """
    directives: dict[str, list[str]] = {}
    for part in policy.split(";"):
        tokens = part.split()
        if tokens:
            directives[tokens[0]] = tokens[1:]
    for name, sources in additions.items():
        current = [source for source in directives.get(name, []) if source != "'none'"]
        directives[name] = current + sources.split()
    return "; ".join(" ".join([name, *sources]) for name, sources in directives.items())


class PageLink(TypedDict):
    """One entry of a pagination bar.

    A dict rather than a dataclass because Django's variable lookup tries item
    access first, and a failed item access costs an exception per lookup.
    """

    # The page number as text, or "" for an ellipsis.
    number: str
    url: str
    is_current: bool
    # The accessible name, such as "第 3 頁".
    label: str


def page_label(number: int) -> str:
    return gettext("第 %(number)s 頁") % {"number": number}


def pagination_links(
    current: int, total: int, url_for: Callable[[int], str], window: int = 2
) -> list[PageLink]:
    """Return the first, last and nearby page numbers, with ellipses for gaps."""
    nearby = range(max(1, current - window), min(total, current + window) + 1)
    numbers = sorted({1, total, *nearby})
    links: list[PageLink] = []
    previous = 0
    for number in numbers:
        if number - previous > 1:
            links.append(PageLink(number="", url="", is_current=False, label=""))
        links.append(
            PageLink(
                number=str(number),
                url=url_for(number),
                is_current=number == current,
                label=page_label(number),
            )
        )
        previous = number
    return links


def split_pages(
    entries: Sequence[NewsEntry], page_size: int
) -> list[Sequence[NewsEntry]]:
    """Split entries into pages, returning one empty page when there are none."""
    if not entries:
        return [entries]
    starts = range(0, len(entries), page_size)
    return [entries[start : start + page_size] for start in starts]


class SiteRenderer:
    """Writes every page, the feeds and the static assets into ``output_dir``.

    Call within ``translation.override`` for the site language.
    """

    def __init__(
        self, output_dir: Path, content: SiteContent, paths: SitePaths, now: datetime
    ) -> None:
        self.output_dir = output_dir
        self.content = content
        self.paths = paths
        self.page_size = max(1, settings.SITE_NEWS_PAGE_SIZE)
        self.pages_written = 0
        self.files_written = 0
        self.page_folders: list[str] = []
        self._created_dirs: set[Path] = set()
        self._templates: dict[str, Any] = {}
        self._chrome: dict[tuple[str, str, bool, str], dict[str, str]] = {}
        # Versioned links of the static files, filled by copy_static.
        self._static_urls: dict[str, str] = {}
        self._sites: dict[str, dict[str, Any]] = {}
        # Set for a build made of hard links to an earlier build: writing
        # through a link would change the earlier, possibly live, build.
        self.unlink_before_write = False
        # Called by render_all after the news pages and before the 404 page.
        self.sections: list[Callable[[], None]] = []
        self._list_fragments: dict[int, str] = {}

        updated_iso, updated_display = format_local_time(
            now, ZoneInfo(settings.TIME_ZONE)
        )
        self.site: dict[str, Any] = {
            "name": gettext("政府入口網"),
            "home_url": paths.url(""),
            "news_url": paths.url(paths.news_folder(1)),
            "agencies_url": paths.url("news/agencies"),
            "about_url": paths.url("about"),
            # Set by enable_services when the site has published services.
            "services_url": "",
            # Set by enable_cameras when the site has public cameras.
            "cameras_url": "",
            "language": SITE_LANGUAGE,
            "rss_url": paths.asset(RSS_FILE),
            "css_url": paths.asset(f"{STATIC_TARGET}/site.css"),
            "icon_url": paths.asset(f"{STATIC_TARGET}/favicon.svg"),
            "updated_iso": updated_iso,
            "updated_display": updated_display,
            "content_security_policy": CONTENT_SECURITY_POLICY,
            "news_count": len(content.entries),
            "agency_count": len(content.agencies),
        }
        self.home_crumb = (gettext("首頁"), self.site["home_url"])
        self.agencies_crumb = (gettext("機關消息"), self.site["agencies_url"])

    def render_all(self) -> None:
        self.copy_static()
        self.render_home()
        self.render_news_pages(
            self.content.entries,
            folder_for=self.paths.news_folder,
            title=gettext("最新消息"),
            parent_crumbs=[],
            page_kind="news",
        )
        self.render_agency_index()
        for group in self.content.agencies:
            self.render_agency_pages(group)
        self.render_about()
        for render_section in self.sections:
            render_section()
        self.render_not_found()
        self.render_feeds()

    # Templates and output.

    def render(self, name: str, context: dict[str, Any]) -> str:
        template = self._templates.get(name)
        if template is None:
            template = get_template(name)
            self._templates[name] = template
        return template.render(context)

    def site_for_language(self) -> dict[str, Any]:
        """Return the site texts and links for the active language."""
        language = get_language() or SITE_LANGUAGE
        if language == SITE_LANGUAGE:
            return self.site
        site = self._sites.get(language)
        if site is None:
            site = {
                **self.site,
                "name": gettext("政府入口網"),
                "services_url": self.paths.url(self.paths.services_root(language))
                if self.site["services_url"]
                else "",
                "language": language,
            }
            self._sites[language] = site
        return site

    def chrome(
        self,
        page_kind: str,
        is_first_page: bool,
        content_security_policy: str | None = None,
    ) -> dict[str, str]:
        """Return the head, header and footer HTML for a kind of page.

        ``content_security_policy`` replaces the site's policy in the head's
        meta element, for pages that show content from other hosts.
        """
        site = self.site_for_language()
        policy = content_security_policy or site["content_security_policy"]
        key = (site["language"], page_kind, is_first_page, policy)
        chrome = self._chrome.get(key)
        if chrome is None:
            context = {
                "site": site,
                "page_kind": page_kind,
                "is_first_page": is_first_page,
            }
            head_site = site
            if policy != site["content_security_policy"]:
                head_site = {**site, "content_security_policy": policy}
            chrome = {
                "head": self.render(
                    "publicsite/_head.html", {**context, "site": head_site}
                ),
                "header": self.render("publicsite/_site_header.html", context),
                "footer": self.render("publicsite/_footer.html", context),
                "breadcrumbs_label": gettext("導覽路徑"),
            }
            self._chrome[key] = chrome
        return chrome

    def write_file(self, relative_path: str, text: str) -> None:
        path = self.output_dir / relative_path
        parent = path.parent
        if parent not in self._created_dirs:
            parent.mkdir(parents=True, exist_ok=True)
            self._created_dirs.add(parent)
        if self.unlink_before_write:
            path.unlink(missing_ok=True)
        with open(path, "w", encoding="utf-8", newline="\n") as output:
            output.write(text)
        self.files_written += 1

    def write_page(
        self,
        relative_path: str,
        template_name: str,
        context: dict[str, Any],
        folder: str | None,
    ) -> None:
        """Render a page and write it. ``folder`` None keeps it out of the sitemap."""
        page_kind = context["page_kind"]
        is_first_page = context.get("page_number", 1) == 1
        context["site"] = self.site_for_language()
        context["chrome"] = self.chrome(
            page_kind, is_first_page, context.get("content_security_policy")
        )
        self.write_file(relative_path, self.render(template_name, context))
        self.pages_written += 1
        if folder is not None:
            self.page_folders.append(folder)

    def write_folder_page(
        self, folder: str, template_name: str, context: dict[str, Any]
    ) -> None:
        self.write_page(self.paths.page_file(folder), template_name, context, folder)

    def copy_static(self) -> None:
        """Copy the static files and link each with a hash for cache busting."""
        for source in sorted(STATIC_SOURCE_DIR.iterdir()):
            if not source.is_file():
                continue
            data = source.read_bytes()
            target = self.output_dir / STATIC_TARGET / source.name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            self.files_written += 1
            digest = hashlib.sha256(data).hexdigest()[:12]
            self._static_urls[source.name] = self.paths.asset(
                f"{STATIC_TARGET}/{source.name}?v={digest}"
            )
            if source.name == "site.css":
                self.site["css_url"] = self._static_urls[source.name]

    def static_url(self, name: str) -> str:
        """Return the link of a static file, with its hash once copy_static ran."""
        return self._static_urls.get(name) or self.paths.asset(
            f"{STATIC_TARGET}/{name}"
        )

    def enable_services(self) -> None:
        """Link the services section from the navigation of every page."""
        self.site["services_url"] = self.paths.url(
            self.paths.services_root(SITE_LANGUAGE)
        )

    def enable_cameras(self) -> None:
        """Link the camera section from the navigation of every page."""
        self.site["cameras_url"] = self.paths.url(CAMERAS_FOLDER)

    def use_built_css(self, build_dir: Path) -> None:
        """Link the CSS of an existing build, for pages added to that build."""
        data = (build_dir / STATIC_TARGET / "site.css").read_bytes()
        digest = hashlib.sha256(data).hexdigest()[:12]
        self.site["css_url"] = self.paths.asset(f"{STATIC_TARGET}/site.css?v={digest}")

    # News item fragments.

    def render_item(self, entry: NewsEntry, heading: str, show_summary: bool) -> str:
        return self.render(
            "publicsite/_news_item.html",
            {"entry": entry, "heading": heading, "show_summary": show_summary},
        )

    def list_items(self, entries: Sequence[NewsEntry]) -> SafeString:
        """Return the list-page HTML of entries, reusing fragments rendered before."""
        fragments: list[str] = []
        for entry in entries:
            fragment = self._list_fragments.get(entry["item_id"])
            if fragment is None:
                fragment = self.render_item(entry, "h2", show_summary=True)
                self._list_fragments[entry["item_id"]] = fragment
            fragments.append(fragment)
        # Each fragment comes from an autoescaping template.
        return mark_safe("".join(fragments))  # noqa: S308

    # Pages.

    def render_home(self) -> None:
        latest = self.content.entries[:HOME_NEWS_COUNT]
        fragments = [self.render_item(entry, "h3", False) for entry in latest]
        self.write_folder_page(
            "",
            "publicsite/home.html",
            {
                # Each fragment comes from an autoescaping template.
                "items_html": mark_safe("".join(fragments)),  # noqa: S308
                "has_news": bool(latest),
                "page_kind": "home",
            },
        )

    def render_news_pages(
        self,
        entries: Sequence[NewsEntry],
        folder_for: Callable[[int], str],
        title: str,
        parent_crumbs: list[tuple[str, str]],
        page_kind: str,
        agency: AgencyGroup | None = None,
    ) -> None:
        pages = split_pages(entries, self.page_size)
        total = len(pages)

        def url_for(number: int) -> str:
            return self.paths.url(folder_for(number))

        breadcrumbs = [self.home_crumb, *parent_crumbs, (title, url_for(1))]
        # The summary is the same on every page of a list, so render it once.
        summary = self.render(
            "publicsite/_list_summary.html",
            {"agency": agency, "total_count": len(entries)},
        )
        # Stripping the template's trailing newline keeps the autoescaped text safe.
        list_summary = mark_safe(summary.strip())  # noqa: S308
        for number, page_entries in enumerate(pages, start=1):
            links = pagination_links(number, total, url_for) if total > 1 else []
            position = ""
            if total > 1:
                position = gettext("（第 %(number)s 頁，共 %(total)s 頁）") % {
                    "number": number,
                    "total": total,
                }
            context = {
                "title": title,
                "breadcrumbs": breadcrumbs,
                "items_html": self.list_items(page_entries),
                "has_news": bool(page_entries),
                "list_summary": list_summary,
                "page_position": position,
                "page_number": number,
                "page_label": page_label(number),
                "page_links": links,
                "previous_url": url_for(number - 1) if number > 1 else "",
                "next_url": url_for(number + 1) if number < total else "",
                "page_kind": page_kind,
            }
            self.write_folder_page(
                folder_for(number), "publicsite/news_list.html", context
            )

    def render_agency_index(self) -> None:
        self.write_folder_page(
            "news/agencies",
            "publicsite/agency_index.html",
            {
                "agencies": self.content.agencies,
                "breadcrumbs": [self.home_crumb, self.agencies_crumb],
                "page_kind": "agencies",
            },
        )

    def render_agency_pages(self, group: AgencyGroup) -> None:
        def folder_for(number: int) -> str:
            return self.paths.agency_folder(group.key, number)

        self.render_news_pages(
            group.entries,
            folder_for=folder_for,
            title=group.name,
            parent_crumbs=[self.agencies_crumb],
            page_kind="agency",
            agency=group,
        )

    def render_about(self) -> None:
        about_crumb = (gettext("關於本站"), self.site["about_url"])
        self.write_folder_page(
            "about",
            "publicsite/about.html",
            {
                "feeds": self.content.feeds,
                "retention_days": settings.NEWS_RETENTION_DAYS,
                "fetch_window_days": settings.NEWS_FETCH_WINDOW_DAYS,
                "breadcrumbs": [self.home_crumb, about_crumb],
                "page_kind": "about",
            },
        )

    def render_not_found(self) -> None:
        """Write /404.html, which web servers send for any missing path."""
        self.write_page(
            "404.html", "publicsite/404.html", {"page_kind": "not_found"}, None
        )

    def render_feeds(self) -> None:
        """Write the RSS feed, the sitemap and a robots.txt that points to it."""
        self.write_file(RSS_FILE, render_rss(self.content.entries, self.paths))
        self.write_sitemap(self.page_folders)
        sitemap_url = self.paths.absolute_asset("sitemap.xml")
        self.write_file(
            "robots.txt", f"User-agent: *\nAllow: /\nSitemap: {sitemap_url}\n"
        )

    def write_sitemap(self, folders: Sequence[str]) -> None:
        """Write sitemap.xml listing the page folders in the given order."""
        urls = (self.paths.absolute_url(folder) for folder in folders)
        self.write_file("sitemap.xml", render_sitemap(urls))
