"""The demo's service catalogue: real titles, generated sample details.

The 397 titles and portal addresses are real. The portal does not publish
the services' details, so every other field is sample text marked as such.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SERVICES_FILE = (
    Path(__file__).resolve().parent
    / "data"
    / "services"
    / "myegov-subsidy-services-2024-03.txt"
)
SAMPLE_NOTE_ZH = "（本欄為示範用範例文字，並非機關實際公告內容。）"
SAMPLE_NOTE_EN = "(Sample text for the demo, not the agency's published wording.)"

# The list names local governments by name and central agencies only as
# 中央政府; the demo files those under the Executive Yuan.
CENTRAL_GOVERNMENT = "中央政府"
CENTRAL_AGENCY_CODE = "A00000000A"

# Keywords of the titles, the life event they belong to, and an English name.
TOPICS: tuple[tuple[str, str, str], ...] = (
    ("育兒", "pregnancy-health", "Childcare allowance"),
    ("托育", "pregnancy-health", "Childcare subsidy"),
    ("生育", "birth-adoption", "Birth subsidy"),
    ("新生兒", "birth-adoption", "Newborn subsidy"),
    ("醫療", "medical-care", "Medical care subsidy"),
    ("健保", "medical-care", "Health insurance premium subsidy"),
    ("長照", "elderly-care", "Long-term care subsidy"),
    ("老人", "elderly-care", "Subsidy for older people"),
    ("身心障礙", "safety-quality-of-life", "Disability support"),
    ("急難", "safety-quality-of-life", "Emergency relief"),
    ("紓困", "safety-quality-of-life", "Hardship relief"),
    ("低收入", "safety-quality-of-life", "Low-income household support"),
    ("租金", "housing-moving", "Rent subsidy"),
    ("住宅", "housing-moving", "Housing subsidy"),
    ("就業", "jobs-employment", "Employment support"),
    ("失業", "jobs-employment", "Unemployment support"),
    ("職業訓練", "jobs-employment", "Vocational training allowance"),
    ("學", "education-training", "Education subsidy"),
    ("獎助", "education-training", "Scholarship"),
    ("創業", "starting-business", "Start-up loan"),
    ("交通", "transport-communications", "Transport subsidy"),
    ("喪葬", "funerals", "Funeral subsidy"),
    ("結婚", "marriage", "Marriage subsidy"),
)


@dataclass(frozen=True)
class ServiceTitle:
    title: str
    organ: str
    portal_url: str

    @property
    def agency_service_id(self) -> str:
        """Return a stable id derived from the portal address."""
        digest = hashlib.sha256(self.portal_url.encode()).hexdigest()[:12]
        return f"myegov-{digest}"


def read_service_titles(path: Path = SERVICES_FILE) -> list[ServiceTitle]:
    """Read ``title$$$organ$$$url`` lines, skipping blank or malformed ones."""
    titles = []
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = [part.strip() for part in line.split("$$$")]
        if len(parts) == 3 and all(parts):
            titles.append(ServiceTitle(*parts))
    return titles


def _topic(title: str) -> tuple[str, str] | None:
    for keyword, category, name_en in TOPICS:
        if keyword in title:
            return category, name_en
    return None


def sample_body(service: ServiceTitle, with_english: bool) -> dict[str, Any]:
    """Return the JSON body an agency's system would send for ``service``."""
    topic = _topic(service.title)
    category = topic[0] if topic else "public-information"
    body: dict[str, Any] = {
        "name_zh": service.title[:200],
        "summary_zh": f"{service.organ}提供的「{service.title}」。{SAMPLE_NOTE_ZH}",
        "content_zh": (
            f"符合資格的民眾可申請「{service.title}」。詳細規定以{service.organ}"
            f"公告為準。{SAMPLE_NOTE_ZH}"
        ),
        "eligibility_zh": (
            f"設籍{service.organ.removesuffix('政府')}並符合規定者。{SAMPLE_NOTE_ZH}"
        ),
        "methods": ["online", "counter"],
        "documents_zh": f"申請書、身分證明文件。{SAMPLE_NOTE_ZH}",
        "processing_time_zh": "收件後30日內",
        "fees_zh": "免費",
        "handling_unit_zh": service.organ,
        "application_url": service.portal_url,
        "categories": [category],
        "keywords_zh": ["補助", "津貼"],
    }
    if with_english and topic is not None:
        body.update(
            name_en=f"{topic[1]} (sample)",
            content_en=f"Residents who qualify may apply. {SAMPLE_NOTE_EN}",
            eligibility_en=f"Registered residents who meet the rules. {SAMPLE_NOTE_EN}",
            processing_time_en="Within 30 days of receipt",
            fees_en="Free of charge",
        )
    return body
