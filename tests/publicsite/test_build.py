import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta

import pytest

from govportal.feeds.models import Feed
from govportal.news.models import NewsItem
from govportal.publicsite.build import build_site
from govportal.publicsite.content import SUMMARY_EXCERPT_CHARS
from govportal.publicsite.paths import SitePaths, is_safe_agency_key, is_web_url
from govportal.publicsite.render import HOME_NEWS_COUNT
from govportal.publicsite.syndication import RSS_ITEM_COUNT

from .conftest import BASE_URL, has_class, parse_page, read_text
from .personas import (
    BUILD_TIME,
    EXECUTIVE_YUAN,
    HEADLINES,
    MINISTRY_OF_HEALTH,
    MINISTRY_OF_LABOR,
    make_agency,
    make_feed,
    make_news,
    make_realistic_site,
)

pytestmark = pytest.mark.django_db

HTML_PAGES = [
    "index.html",
    "news/index.html",
    "news/agencies/index.html",
    "news/agencies/A00000000A/index.html",
    "news/agencies/2.16.886.101.20003.20063/index.html",
    "news/agencies/2.16.886.101.20003.20069/index.html",
    "news/agencies/A21000000I/index.html",
    "about/index.html",
    "404.html",
]


def make_many_news(agency, count, start=BUILD_TIME, title_prefix="消息"):
    """Create count items one hour apart, newest first, titled 消息 1, 消息 2, ..."""
    return [
        make_news(
            agency,
            f"{title_prefix} {number}",
            start - timedelta(hours=number),
            link=f"https://www.ey.gov.tw/Page/news-{title_prefix}-{number}",
        )
        for number in range(1, count + 1)
    ]


def news_titles(page) -> list[str]:
    return [
        heading.text_content().strip()
        for heading in page.xpath(f".//*[{has_class('news-item__title')}]")
    ]


# Pages and links.


def test_build_writes_all_pages(site_dir):
    make_realistic_site()

    report = build_site(now=BUILD_TIME)

    for relative_path in [*HTML_PAGES, "feeds/news.xml", "sitemap.xml", "robots.txt"]:
        assert (site_dir / relative_path).is_file(), relative_path
    assert (site_dir / "static/site.css").is_file()
    assert report.pages_written == len(HTML_PAGES)
    assert report.files_written > report.pages_written
    assert report.site_dir == site_dir
    assert report.seconds > 0


def test_pages_share_accessible_layout(site_dir):
    make_realistic_site()
    build_site(now=BUILD_TIME)

    for relative_path in HTML_PAGES:
        page = parse_page(site_dir, relative_path)
        assert page.get("lang") == "zh-Hant-TW", relative_path
        assert len(page.xpath(".//h1")) == 1, relative_path
        assert len(page.xpath(".//main[@id='main']")) == 1, relative_path
        assert page.xpath(".//header"), relative_path
        assert page.xpath(".//footer"), relative_path
        assert page.xpath(".//nav[@aria-label]"), relative_path
        skip_links = page.xpath(f".//a[{has_class('skip-link')}]")
        assert skip_links[0].get("href") == "#main", relative_path
        assert page.xpath(".//link[@rel='stylesheet']"), relative_path
        assert not page.xpath(".//script"), relative_path
        for time_element in page.xpath(".//time"):
            assert time_element.get("datetime").endswith("+08:00"), relative_path


def test_titles_link_to_agency_pages(site_dir):
    make_realistic_site()
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "news/index.html")
    items = page.xpath(f".//li[{has_class('news-item')}]")
    assert len(items) == len(HEADLINES)
    for item, (persona, title, path, _summary) in zip(items, HEADLINES, strict=True):
        link = item.xpath(f".//*[{has_class('news-item__title')}]//a")[0]
        assert link.text_content() == title
        assert link.get("href") == f"{persona.website}{path}"
        assert set(link.get("rel").split()) == {"noopener", "noreferrer"}
        agency = item.xpath(f".//*[{has_class('news-item__agency')}]")[0]
        assert agency.text_content() == persona.name_zh


def test_news_sorted_newest_first(site_dir):
    make_realistic_site()
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "news/index.html")
    stamps = [element.get("datetime") for element in page.xpath(".//li//time")]
    assert stamps == sorted(stamps, reverse=True)
    assert news_titles(page) == [title for _, title, _, _ in HEADLINES]


def test_dates_shown_in_taipei_time(site_dir):
    agency = make_agency(EXECUTIVE_YUAN)
    # 23:30 UTC on 19 July is 07:30 on 20 July in Taipei.
    make_news(agency, "院會新聞", datetime(2026, 7, 19, 23, 30, tzinfo=UTC))
    build_site(now=BUILD_TIME)

    time_element = parse_page(site_dir, "news/index.html").xpath(".//li//time")[0]
    assert time_element.get("datetime") == "2026-07-20T07:30:00+08:00"
    assert time_element.text_content() == "2026-07-20 07:30"


def test_future_date_item_not_on_top(site_dir):
    agency = make_agency(EXECUTIVE_YUAN)
    make_news(agency, "今天的新聞", BUILD_TIME - timedelta(hours=1))
    # The ingester clamped this item's year-9999 date to the time it was seen.
    make_news(
        agency,
        "日期在未來的新聞",
        BUILD_TIME - timedelta(hours=5),
        flags=["future date"],
    )
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "news/index.html")
    assert news_titles(page) == ["今天的新聞", "日期在未來的新聞"]


def test_home_page_shows_latest_and_links(site_dir):
    agency = make_agency(EXECUTIVE_YUAN)
    make_many_news(agency, HOME_NEWS_COUNT + 5)
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "index.html")
    titles = news_titles(page)
    assert len(titles) == HOME_NEWS_COUNT
    assert titles[0] == "消息 1"
    hrefs = {link.get("href") for link in page.xpath(".//main//a")}
    assert "/news/" in hrefs
    assert "/news/agencies/" in hrefs
    assert "/about/" in hrefs
    assert "/feeds/news.xml" in hrefs


def test_empty_database_builds_empty_pages(site_dir):
    report = build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "news/index.html")
    assert page.xpath(f".//p[{has_class('empty')}]")
    assert not page.xpath(f".//*[{has_class('pagination')}]")
    assert (site_dir / "news/agencies/index.html").is_file()
    assert report.pages_written == 5


# Escaping and unsafe values.


def test_script_in_title_is_escaped(site_dir):
    agency = make_agency(EXECUTIVE_YUAN)
    make_news(
        agency,
        "<script>alert(1)</script>颱風警報",
        BUILD_TIME - timedelta(hours=1),
        link="https://www.ey.gov.tw/Page/typhoon",
    )
    build_site(now=BUILD_TIME)

    for relative_path in ["index.html", "news/index.html"]:
        html = read_text(site_dir, relative_path)
        assert "<script>" not in html, relative_path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;颱風警報" in html, relative_path
    rss = read_text(site_dir, "feeds/news.xml")
    assert "<script>" not in rss
    title = ET.fromstring(rss.encode()).find("channel/item/title")
    assert title.text == "<script>alert(1)</script>颱風警報"


def test_html_in_agency_name_is_escaped(site_dir):
    agency = make_agency(EXECUTIVE_YUAN)
    agency.name_zh = '行政院"><img src=x onerror=alert(1)>'
    agency.save()
    make_news(agency, "院會新聞", BUILD_TIME - timedelta(hours=1))
    build_site(now=BUILD_TIME)

    html = read_text(site_dir, "news/agencies/index.html")
    assert "<img" not in html
    assert "onerror=alert(1)&gt;" in html


def test_unsafe_link_rendered_as_text(site_dir):
    agency = make_agency(EXECUTIVE_YUAN)
    links = [
        "javascript:alert(1)",
        "  javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "../../x",
        "",
    ]
    for number, link in enumerate(links):
        make_news(
            agency, f"不安全連結 {number}", BUILD_TIME - timedelta(hours=number), link
        )
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "news/index.html")
    assert len(page.xpath(f".//li[{has_class('news-item')}]")) == len(links)
    assert not page.xpath(f".//*[{has_class('news-item__title')}]//a")
    assert "javascript:" not in read_text(site_dir, "news/index.html")


def test_summary_html_rendered(site_dir):
    agency = make_agency(MINISTRY_OF_HEALTH)
    make_news(
        agency,
        "防疫新聞",
        BUILD_TIME - timedelta(hours=1),
        summary_html="<p>請<strong>勤洗手</strong>。</p>",
    )
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "news/index.html")
    summary = page.xpath(f".//*[{has_class('news-item__summary')}]//strong")
    assert summary[0].text_content() == "勤洗手"


def test_long_summary_cut_to_excerpt(site_dir):
    agency = make_agency(MINISTRY_OF_HEALTH)
    article = "<p><strong>重點</strong>" + "長" * 3000 + "</p><p>第二段</p>"
    make_news(agency, "長篇新聞", BUILD_TIME - timedelta(hours=1), summary_html=article)
    build_site(now=BUILD_TIME)

    html = read_text(site_dir, "news/index.html")
    page = parse_page(site_dir, "news/index.html")
    summary = page.xpath(f".//*[{has_class('news-item__summary')}]")[0]
    text = summary.text_content()
    assert text.startswith("重點長長")
    assert text.endswith("…")
    assert len(text) <= SUMMARY_EXCERPT_CHARS + 1
    assert "第二段" not in html
    assert "…</p>" in html
    rss = read_text(site_dir, "feeds/news.xml")
    assert "長" * 3000 not in rss


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("301000000A", True),
        ("A00000000A", True),
        ("2.16.886.101.20003.20063", True),
        ("", False),
        (None, False),
        (".", False),
        ("..", False),
        ("../etc", False),
        ("a/b", False),
        ("a\\b", False),
        ("2.16..886", False),
        (".2.16", False),
        ("2.16.", False),
        ("301000000A\n", False),
        ("301 00000A", False),
        ("３０１", False),
        ("12345678901", False),
        ("2." + ".".join(["1"] * 40), False),
    ],
)
def test_agency_key_validation(key, expected):
    assert is_safe_agency_key(key) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.mol.gov.tw/1607/1632/", True),
        ("http://www.cdc.gov.tw/", True),
        ("HTTPS://WWW.EY.GOV.TW/", True),
        ("javascript:alert(1)", False),
        ("https:///no-host", False),
        ("/relative/path", False),
        ("https://www.ey.gov.tw/a b", False),
        (" https://www.ey.gov.tw/", False),
        ("mailto:someone@example.gov.tw", False),
        ("", False),
    ],
)
def test_web_url_validation(url, expected):
    assert is_web_url(url) is expected


def test_agency_paths_reject_unsafe_key():
    paths = SitePaths(BASE_URL)

    with pytest.raises(ValueError, match="not a valid agency code or OID"):
        paths.agency_folder("../../etc")


def test_unsafe_agency_key_gets_no_page(site_dir, caplog):
    agency = make_agency(EXECUTIVE_YUAN)
    agency.code = "../../x"
    agency.save()
    make_news(agency, "路徑測試", BUILD_TIME - timedelta(hours=1))
    build_site(now=BUILD_TIME)

    build_dir = site_dir.resolve()
    assert not (build_dir.parent / "x").exists()
    assert not (build_dir / "news/x").exists()
    agency_pages = list((build_dir / "news/agencies").iterdir())
    assert [path.name for path in agency_pages] == ["index.html"]
    page = parse_page(site_dir, "news/index.html")
    assert news_titles(page) == ["路徑測試"]
    assert not page.xpath(f".//a[{has_class('news-item__agency')}]")
    assert "'../../x', which is not a valid code or OID" in caplog.text


# Pagination.


def test_news_pagination(site_dir, settings):
    settings.SITE_NEWS_PAGE_SIZE = 3
    agency = make_agency(EXECUTIVE_YUAN)
    make_many_news(agency, 8)
    build_site(now=BUILD_TIME)

    first = parse_page(site_dir, "news/index.html")
    second = parse_page(site_dir, "news/page/2/index.html")
    third = parse_page(site_dir, "news/page/3/index.html")
    assert not (site_dir / "news/page/4").exists()
    assert not (site_dir / "news/page/1").exists()
    assert news_titles(first) == ["消息 1", "消息 2", "消息 3"]
    assert news_titles(second) == ["消息 4", "消息 5", "消息 6"]
    assert news_titles(third) == ["消息 7", "消息 8"]

    summary = second.xpath(f".//p[{has_class('page-heading__summary')}]")[0]
    assert (
        summary.text_content()
        == "共 8 則消息，依發布時間由新到舊排列（第 2 頁，共 3 頁）"
    )
    nav = second.xpath(f".//nav[{has_class('pagination')}]")[0]
    assert nav.get("aria-label") == "分頁"
    current = nav.xpath(".//a[@aria-current='page']")
    assert len(current) == 1
    assert current[0].text_content() == "2"
    assert current[0].get("href") == "/news/page/2/"
    assert nav.xpath(".//a[@rel='prev']")[0].get("href") == "/news/"
    assert nav.xpath(".//a[@rel='next']")[0].get("href") == "/news/page/3/"
    assert not first.xpath(f".//nav[{has_class('pagination')}]//a[@rel='prev']")
    assert not third.xpath(f".//nav[{has_class('pagination')}]//a[@rel='next']")
    number_links = [
        link.get("href") for link in nav.xpath(".//a") if link.get("rel") is None
    ]
    assert number_links == ["/news/", "/news/page/2/", "/news/page/3/"]


def test_pagination_elides_distant_pages(site_dir, settings):
    settings.SITE_NEWS_PAGE_SIZE = 1
    agency = make_agency(EXECUTIVE_YUAN)
    make_many_news(agency, 12)
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "news/page/6/index.html")
    numbers = [
        link.text_content()
        for link in page.xpath(f".//nav[{has_class('pagination')}]//a")
        if link.get("rel") is None
    ]
    assert numbers == ["1", "4", "5", "6", "7", "8", "12"]
    assert len(page.xpath(f".//*[{has_class('pagination__gap')}]")) == 2


def test_agency_pages_list_own_news(site_dir, settings):
    settings.SITE_NEWS_PAGE_SIZE = 2
    labor = make_agency(MINISTRY_OF_LABOR)
    health = make_agency(MINISTRY_OF_HEALTH)
    make_many_news(labor, 3, title_prefix="勞動")
    make_many_news(health, 1, title_prefix="衛福")
    build_site(now=BUILD_TIME)

    labor_folder = "news/agencies/2.16.886.101.20003.20063"
    first = parse_page(site_dir, f"{labor_folder}/index.html")
    second = parse_page(site_dir, f"{labor_folder}/page/2/index.html")
    assert first.xpath(".//h1")[0].text_content() == "勞動部"
    assert news_titles(first) == ["勞動 1", "勞動 2"]
    assert news_titles(second) == ["勞動 3"]
    current = second.xpath(
        f".//nav[{has_class('pagination')}]//a[@aria-current='page']"
    )[0]
    assert current.get("href") == f"/{labor_folder}/page/2/"

    health_page = parse_page(site_dir, "news/agencies/A21000000I/index.html")
    assert news_titles(health_page) == ["衛福 1"]
    assert not health_page.xpath(f".//*[{has_class('pagination')}]")


def test_agency_index_lists_counts(site_dir):
    make_realistic_site()
    make_agency(MINISTRY_OF_HEALTH)
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "news/agencies/index.html")
    rows = {
        link.xpath(f".//*[{has_class('agency-list__name')}]")[0].text_content(): (
            link.get("href"),
            link.xpath(f".//*[{has_class('agency-list__count')}]")[0].text_content(),
        )
        for link in page.xpath(f".//a[{has_class('agency-list__link')}]")
    }
    assert rows == {
        "行政院": ("/news/agencies/A00000000A/", "2 則"),
        "勞動部": ("/news/agencies/2.16.886.101.20003.20063/", "2 則"),
        "環境部": ("/news/agencies/2.16.886.101.20003.20069/", "2 則"),
        "衛生福利部": ("/news/agencies/A21000000I/", "2 則"),
    }


def test_agency_without_news_not_listed(site_dir):
    make_agency(EXECUTIVE_YUAN)
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "news/agencies/index.html")
    assert not page.xpath(f".//a[{has_class('agency-list__link')}]")
    assert not (site_dir / "news/agencies/A00000000A").exists()


# About page, RSS and sitemap.


def test_about_lists_published_feeds(site_dir, settings):
    settings.NEWS_RETENTION_DAYS = 45
    settings.NEWS_FETCH_WINDOW_DAYS = 7
    labor = make_agency(MINISTRY_OF_LABOR)
    health = make_agency(MINISTRY_OF_HEALTH)
    make_feed(labor, "勞動部新聞稿", "https://www.mol.gov.tw/rss/news.xml")
    make_feed(
        health,
        "衛福部焦點新聞",
        "https://www.mohw.gov.tw/rss-16-1.html",
        state=Feed.State.FAILING,
    )
    make_feed(
        health, "尚未審核", "https://www.mohw.gov.tw/pending.xml", Feed.State.PENDING
    )
    make_feed(labor, "已暫停", "https://www.mol.gov.tw/paused.xml", Feed.State.PAUSED)
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "about/index.html")
    rows = [
        [cell.text_content() for cell in row.xpath("./td")]
        for row in page.xpath(".//table/tbody/tr")
    ]
    assert rows == [
        ["勞動部", "勞動部新聞稿", "https://www.mol.gov.tw/rss/news.xml"],
        ["衛生福利部", "衛福部焦點新聞", "https://www.mohw.gov.tw/rss-16-1.html"],
    ]
    text = page.text_content()
    assert "RSS" in text
    assert "審核通過" in text
    assert "每天至少自動擷取" in text
    assert "最近 7 天" in text
    assert "約 45 天" in text
    assert "原文" in text


def test_rss_feed_well_formed(site_dir):
    agency = make_agency(EXECUTIVE_YUAN)
    make_many_news(agency, RSS_ITEM_COUNT + 3)
    make_news(
        agency,
        "控制字元\x0b標題 & <b>粗體</b>",
        BUILD_TIME,
        link="https://www.ey.gov.tw/Page/a?x=1&y=2",
        summary_html="<p>摘要 &amp; 說明</p>",
    )
    build_site(now=BUILD_TIME)

    root = ET.fromstring((site_dir / "feeds/news.xml").read_bytes())
    assert root.tag == "rss"
    assert root.get("version") == "2.0"
    items = root.findall("channel/item")
    assert len(items) == RSS_ITEM_COUNT
    first = items[0]
    assert first.findtext("title") == "控制字元標題 & <b>粗體</b>"
    assert first.findtext("link") == "https://www.ey.gov.tw/Page/a?x=1&y=2"
    assert first.findtext("description") == "<p>摘要 &amp; 說明</p>"
    assert first.findtext("pubDate") == "Mon, 20 Jul 2026 10:00:00 +0000"
    assert root.findtext("channel/link") == f"{BASE_URL}/"


def test_sitemap_lists_pages(site_dir, settings):
    settings.SITE_NEWS_PAGE_SIZE = 5
    make_realistic_site()
    build_site(now=BUILD_TIME)

    root = ET.fromstring((site_dir / "sitemap.xml").read_bytes())
    namespace = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
    urls = [loc.text for loc in root.iter(f"{namespace}loc")]
    assert f"{BASE_URL}/" in urls
    assert f"{BASE_URL}/news/" in urls
    assert f"{BASE_URL}/news/page/2/" in urls
    assert f"{BASE_URL}/news/agencies/A00000000A/" in urls
    assert f"{BASE_URL}/about/" in urls
    assert not [url for url in urls if "404" in url]
    assert len(urls) == len(set(urls))


def test_robots_txt_points_to_sitemap(site_dir):
    build_site(now=BUILD_TIME)

    robots = read_text(site_dir, "robots.txt")
    assert robots == f"User-agent: *\nAllow: /\nSitemap: {BASE_URL}/sitemap.xml\n"


def test_base_url_with_sub_path(site_dir, settings):
    settings.SITE_BASE_URL = "https://www.example.gov.tw/portal/"
    make_realistic_site()
    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "index.html")
    internal = [
        link.get("href")
        for link in page.xpath(".//a")
        if not link.get("href").startswith(("https://", "#"))
    ]
    assert internal
    assert all(href.startswith("/portal/") for href in internal)
    stylesheet = page.xpath(".//link[@rel='stylesheet']")[0].get("href")
    assert stylesheet.startswith("/portal/static/site.css?v=")
    sitemap = read_text(site_dir, "sitemap.xml")
    assert "<loc>https://www.example.gov.tw/portal/news/</loc>" in sitemap


# Speed: the number of queries must not grow with items or agencies.


def test_build_query_count_constant(site_dir, django_assert_max_num_queries):
    make_realistic_site()
    for number in range(30):
        agency = make_agency(EXECUTIVE_YUAN)
        if number % 2:
            agency = make_agency(MINISTRY_OF_LABOR)
        make_news(agency, f"大量消息 {number}", BUILD_TIME - timedelta(minutes=number))

    # News, services, and the camera loader's public-camera query.
    with django_assert_max_num_queries(4):
        build_site(now=BUILD_TIME)

    assert NewsItem.objects.count() == len(HEADLINES) + 30
