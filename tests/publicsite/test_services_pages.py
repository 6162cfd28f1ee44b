"""Service pages of the static build: published revisions only, both languages."""

import pytest

from govportal.publicsite.build import build_site
from govportal.publishing import workflow
from govportal.services.records import create_service, update_service
from tests.publishing.helpers import make_agency, make_user

from .conftest import parse_page, read_text
from .personas import BUILD_TIME

pytestmark = pytest.mark.django_db

PASSPORT = {
    "name_zh": "普通護照申請",
    "name_en": "Ordinary passport application",
    "summary_zh": "首次申請或換發普通護照。",
    "content_zh": "申請普通護照。",
    "content_en": "Apply for an ordinary passport.",
    "eligibility_zh": "具有中華民國國籍者。",
    "methods": ["counter", "mail"],
    "method_details_zh": "至領事事務局或各辦事處臨櫃辦理。",
    "documents_zh": "身分證正本。",
    "processing_time_zh": "10 個工作天",
    "fees_zh": "新臺幣 1,300 元",
    "handling_unit_zh": "領事事務局",
    "contact_phone": "02-2343-2888",
    "contact_email": "passport@boca.gov.tw",
    "legal_basis_zh": "護照條例",
    "application_url": "https://www.boca.gov.tw/apply",
    "notes_zh": "未滿 14 歲者效期 5 年。",
    "categories": ["leisure-travel", "public-information"],
}
ROW_LABELS = [
    "服務內容",
    "申辦資格",
    "申辦方式",
    "應備文件",
    "處理期限",
    "收費標準",
    "承辦單位",
    "聯絡電話",
    "電子郵件",
    "相關法規",
    "線上申辦",
    "備註",
]
DETAIL = "services/A15000000A/MOFA-001/index.html"
DETAIL_EN = "en/services/A15000000A/MOFA-001/index.html"


@pytest.fixture
def people(db):
    return make_user("editor"), make_user("reviewer", reviewer=True)


@pytest.fixture
def agency(db):
    return make_agency()


def approve(service, people):
    editor, reviewer = people
    workflow.submit(service, editor)
    workflow.start_review(service, reviewer)
    workflow.approve(service, service.current_revision.number, reviewer)


def published(agency, people, service_id="MOFA-001", **changes):
    service = create_service(agency, service_id, {**PASSPORT, **changes}, people[0])
    approve(service, people)
    return service


def row_labels(page) -> list[str]:
    return [term.text_content().strip() for term in page.xpath(".//dl//dt")]


def test_published_service_rows_in_order(site_dir, agency, people):
    published(agency, people)

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, DETAIL)
    assert page.xpath("string(.//h1)") == "普通護照申請"
    assert row_labels(page) == ROW_LABELS
    link = page.xpath(".//dd/a[@href='https://www.boca.gov.tw/apply']")[0]
    assert link.get("rel") == "noopener noreferrer"
    assert page.xpath(".//dd/a[@href='mailto:passport@boca.gov.tw']")
    assert "臨櫃辦理、郵寄申辦" in page.xpath("string(.//dl)")


def test_empty_rows_omitted(site_dir, agency, people):
    minimal = {key: PASSPORT[key] for key in ("name_zh", "content_zh")}
    service = create_service(agency, "S-2", minimal, people[0])
    approve(service, people)

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "services/A15000000A/S-2/index.html")
    assert row_labels(page) == ["服務內容"]


def test_pending_edit_keeps_published_page(site_dir, agency, people):
    service = published(agency, people)
    update_service(service, {**PASSPORT, "name_zh": "草稿名稱"}, people[0])
    workflow.submit(service, people[0])

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, DETAIL)
    assert page.xpath("string(.//h1)") == "普通護照申請"
    assert "草稿名稱" not in read_text(site_dir, "services/index.html")


def test_unapproved_service_never_appears(site_dir, agency, people):
    published(agency, people)
    pending = create_service(
        agency, "S-9", {**PASSPORT, "name_zh": "未核准"}, people[0]
    )
    workflow.submit(pending, people[0])

    build_site(now=BUILD_TIME)

    assert not (site_dir / "services/A15000000A/S-9").exists()
    category = read_text(site_dir, "services/categories/leisure-travel/index.html")
    assert "未核准" not in category
    assert "未核准" not in read_text(site_dir, "sitemap.xml")


def test_withdrawn_service_disappears(site_dir, agency, people):
    published(agency, people)
    withdrawn = published(agency, people, "S-W", name_zh="已撤下")
    workflow.withdraw(withdrawn, people[0], "停辦")

    build_site(now=BUILD_TIME)

    assert not (site_dir / "services/A15000000A/S-W").exists()
    index = read_text(site_dir, "services/agencies/A15000000A/index.html")
    assert "已撤下" not in index


def test_index_lists_categories_and_agencies(site_dir, agency, people):
    published(agency, people)

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, "services/index.html")
    names = page.xpath(".//*[contains(@class, 'agency-list__name')]/text()")
    assert len(names) == 18 + 1
    assert "休閒旅遊" in names
    assert "內政部" in names
    nav = parse_page(site_dir, "index.html").xpath(".//nav//a/@href")
    assert "/services/" in nav


def test_english_page_with_english_content(site_dir, agency, people):
    published(agency, people)

    build_site(now=BUILD_TIME)

    page = parse_page(site_dir, DETAIL_EN)
    assert page.get("lang") == "en"
    assert page.xpath("string(.//h1)") == "Ordinary passport application"
    # Content, methods, phone, email and the online address, because the other
    # English fields are empty.
    assert len(row_labels(page)) == 5
    assert "At a service counter, By mail" in page.xpath("string(.//dl)")
    chinese = parse_page(site_dir, DETAIL)
    link = chinese.xpath(".//a[@hreflang='en']")[0]
    assert link.get("lang") == "en"
    assert link.get("href") == "/en/services/A15000000A/MOFA-001/"
    category = parse_page(site_dir, "en/services/categories/leisure-travel/index.html")
    assert category.xpath("string(.//h1)") == "Leisure and travel"


def test_no_english_page_without_content(site_dir, agency, people):
    published(agency, people, name_en="", content_en="")

    build_site(now=BUILD_TIME)

    assert not (site_dir / DETAIL_EN).exists()
    assert "本服務目前沒有英文版。" in read_text(site_dir, DETAIL)


def test_script_in_name_escaped(site_dir, agency, people):
    published(agency, people, name_zh="<script>alert(1)</script>護照")

    build_site(now=BUILD_TIME)

    html = read_text(site_dir, DETAIL)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;護照" in html


def test_category_list_paginates(site_dir, agency, people, settings):
    settings.SITE_SERVICES_PAGE_SIZE = 2
    for number in range(3):
        published(agency, people, f"S-{number}", name_zh=f"服務 {number}")

    build_site(now=BUILD_TIME)

    second = parse_page(
        site_dir, "services/categories/leisure-travel/page/2/index.html"
    )
    assert second.xpath("string(.//h2)") == "服務 2"
    assert second.xpath(".//a[@rel='prev']/@href") == [
        "/services/categories/leisure-travel/"
    ]
