"""Agencies, feeds and news items of the public-site tests, created in code.

The agencies are real central-government agencies with their DGPA codes or
OIDs. The headlines and summaries are written for these tests.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.utils import timezone

from govportal.agencies.models import Agency
from govportal.feeds.models import Feed
from govportal.news.models import NewsItem

TAIPEI = ZoneInfo("Asia/Taipei")
# A fixed build time: Monday 20 July 2026, 18:00 in Taipei.
BUILD_TIME = datetime(2026, 7, 20, 18, 0, tzinfo=TAIPEI)


@dataclass(frozen=True)
class AgencyPersona:
    name_zh: str
    name_en: str
    website: str
    code: str | None = None
    oid: str | None = None


EXECUTIVE_YUAN = AgencyPersona(
    "行政院", "Executive Yuan", "https://www.ey.gov.tw/", code="A00000000A"
)
MINISTRY_OF_LABOR = AgencyPersona(
    "勞動部",
    "Ministry of Labor",
    "https://www.mol.gov.tw/",
    oid="2.16.886.101.20003.20063",
)
MINISTRY_OF_HEALTH = AgencyPersona(
    "衛生福利部",
    "Ministry of Health and Welfare",
    "https://www.mohw.gov.tw/",
    code="A21000000I",
)
# The OID is made up for the tests, in the shape of its sibling ministries'.
MINISTRY_OF_ENVIRONMENT = AgencyPersona(
    "環境部",
    "Ministry of Environment",
    "https://www.moenv.gov.tw/",
    oid="2.16.886.101.20003.20069",
)

ALL_AGENCIES = (
    EXECUTIVE_YUAN,
    MINISTRY_OF_LABOR,
    MINISTRY_OF_HEALTH,
    MINISTRY_OF_ENVIRONMENT,
)

# (agency, title, path on the agency's website, summary HTML)
HEADLINES = (
    (
        MINISTRY_OF_LABOR,
        "外送平臺專法明日上路，保障外送員權益與消費者安全",
        "news/2026/0720-delivery",
        "<p>勞動部說明新制重點，包括最低報酬、保險與申訴管道。</p>",
    ),
    (
        MINISTRY_OF_ENVIRONMENT,
        "國土綠蔭計畫啟動社區說明會，邀請民眾共同參與",
        "news/13722",
        "<p>說明會將於北、中、南、東各舉辦一場，歡迎民眾報名。</p>",
    ),
    (
        EXECUTIVE_YUAN,
        "行政院會通過公共運輸補助方案，偏鄉路線全面檢討",
        "Page/9277F759E41CCD91/0720",
        "<p>院長表示，將優先改善偏鄉與離島的交通服務。</p>",
    ),
    (
        MINISTRY_OF_HEALTH,
        "夏季腸胃炎好發，衛福部提醒落實手部衛生",
        "cp-16-81234-1.html",
        "<p>民眾用餐前、如廁後應以肥皂洗手，並注意食物保存溫度。</p>",
    ),
    (
        MINISTRY_OF_LABOR,
        "高溫作業勞工熱危害預防指引修正發布",
        "news/2026/0718-heat",
        "<p>雇主應提供飲水、遮陽與休息時間，並監測工作場所溫度。</p>",
    ),
    (
        EXECUTIVE_YUAN,
        "數位身分識別推動進度說明，隱私保護為首要原則",
        "Page/9277F759E41CCD91/0717",
        "",
    ),
    (
        MINISTRY_OF_HEALTH,
        "長照服務據點擴增，偏遠地區交通接送補助提高",
        "cp-16-81190-1.html",
        "<p>長照 2.0 服務據點本年度新增 120 處。</p>",
    ),
    (
        MINISTRY_OF_ENVIRONMENT,
        "資源回收新制說明：飲料杯納入回收獎勵",
        "news/13701",
        "<p>民眾可至指定超商與回收站交回飲料杯。</p>",
    ),
)


def make_agency(persona: AgencyPersona) -> Agency:
    agency, _ = Agency.objects.get_or_create(
        code=persona.code,
        oid=persona.oid,
        defaults={
            "name_zh": persona.name_zh,
            "name_en": persona.name_en,
            "website": persona.website,
            "source": "manual",
        },
    )
    return agency


def make_feed(
    agency: Agency, title: str, url: str, state: str = Feed.State.ACTIVE
) -> Feed:
    return Feed.objects.create(agency=agency, url=url, title=title, state=state)


def make_news(
    agency: Agency,
    title: str,
    published_at: datetime,
    link: str = "",
    summary_html: str = "",
    flags: list[str] | None = None,
) -> NewsItem:
    now = timezone.now()
    return NewsItem.objects.create(
        agency=agency,
        title=title,
        link=link,
        link_key=link,
        summary_html=summary_html,
        published_at=published_at,
        source_published_at=published_at,
        first_seen_at=published_at,
        updated_at=now,
        content_hash=f"hash-{title}"[:64],
        flags=flags or [],
    )


def make_realistic_site() -> dict[str, Agency]:
    """Create four agencies with feeds and eight headlines over three days."""
    agencies = {persona.name_zh: make_agency(persona) for persona in ALL_AGENCIES}
    for persona in ALL_AGENCIES:
        make_feed(
            agencies[persona.name_zh],
            f"{persona.name_zh}新聞稿",
            f"{persona.website}rss/news.xml",
        )
    for index, (persona, title, path, summary) in enumerate(HEADLINES):
        make_news(
            agencies[persona.name_zh],
            title,
            BUILD_TIME - timedelta(hours=3 + index * 7),
            link=f"{persona.website}{path}",
            summary_html=summary,
        )
    return agencies
