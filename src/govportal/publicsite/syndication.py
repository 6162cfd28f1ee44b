"""The RSS 2.0 feed of the latest news and the sitemap, as XML text."""

import io
import re
from collections.abc import Iterable
from xml.sax.saxutils import escape

from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.translation import gettext

from .content import NewsEntry
from .paths import SitePaths

RSS_FILE = "feeds/news.xml"
RSS_ITEM_COUNT = 50
# The sitemap protocol allows at most 50,000 URLs per file.
SITEMAP_MAX_URLS = 50_000

# Characters that XML 1.0 does not allow, even escaped.
_XML_INVALID_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """Remove characters that would make an XML 1.0 document not well-formed."""
    return _XML_INVALID_RE.sub("", text)


def render_rss(entries: list[NewsEntry], paths: SitePaths) -> str:
    """Render the latest RSS_ITEM_COUNT entries as an RSS 2.0 document.

    Items whose stored link is not a web URL link to the site's news list.
    """
    feed = Rss201rev2Feed(
        title=gettext("政府入口網 最新消息"),
        link=paths.absolute_url(""),
        description=gettext("各機關發布的最新消息"),
        language="zh-TW",
        feed_url=paths.absolute_asset(RSS_FILE),
    )
    news_url = paths.absolute_url(paths.news_folder(1))
    for entry in entries[:RSS_ITEM_COUNT]:
        feed.add_item(
            title=xml_text(entry["title"]),
            link=entry["link"] or news_url,
            description=xml_text(entry["summary_html"]),
            author_name=xml_text(entry["agency_name"]),
            pubdate=entry["published_at"],
            unique_id=f"{paths.base_url}/#news-{entry['item_id']}",
            unique_id_is_permalink=False,
            categories=[xml_text(entry["agency_name"])],
        )
    output = io.StringIO()
    feed.write(output, "utf-8")
    return output.getvalue()


def render_sitemap(page_urls: Iterable[str]) -> str:
    """Render a sitemap of absolute page URLs.

    Raises ValueError past SITEMAP_MAX_URLS, where a sitemap index would be needed.
    """
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">',
    ]
    count = 0
    for url in page_urls:
        count += 1
        if count > SITEMAP_MAX_URLS:
            raise ValueError(
                f"The site has more than {SITEMAP_MAX_URLS} pages, which one "
                "sitemap cannot list. Split it into a sitemap index."
            )
        lines.append(f"<url><loc>{escape(xml_text(url))}</loc></url>")
    lines.append("</urlset>")
    return "\n".join(lines) + "\n"
