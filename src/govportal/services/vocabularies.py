"""The fixed lists a service is classified by: life events, age groups, methods.

Slugs are stable public identifiers (used by the integration API and in
public URLs), so an entry may be renamed but its slug never changes. The
names are domain data shown on the bilingual public site, so each entry
carries both languages instead of going through the translation catalogue.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    slug: str
    name_zh: str
    name_en: str


# The 18 life-event categories (人生大事) of the national portal.
LIFE_EVENTS: tuple[Term, ...] = (
    Term("public-information", "公共資訊", "Public information"),
    Term("pregnancy-health", "生育保健", "Pregnancy and reproductive health"),
    Term("safety-quality-of-life", "生活安全及品質", "Safety and quality of life"),
    Term("military-service", "服兵役", "Military service"),
    Term("transport-communications", "交通及通訊", "Transport and communications"),
    Term("elderly-care", "老年安養", "Care in old age"),
    Term("investment-finance", "投資理財", "Investment and personal finance"),
    Term("elections-voting", "選舉及投票", "Elections and voting"),
    Term("leisure-travel", "休閒旅遊", "Leisure and travel"),
    Term("funerals", "生命禮儀", "Funerals and memorials"),
    Term("starting-business", "開創事業", "Starting a business"),
    Term("birth-adoption", "出生及收養", "Birth and adoption"),
    Term("medical-care", "就醫", "Medical care"),
    Term("marriage", "婚姻", "Marriage"),
    Term("education-training", "求學及進修", "Education and training"),
    Term("retirement", "退休", "Retirement"),
    Term("jobs-employment", "求職及就業", "Jobs and employment"),
    Term("housing-moving", "購屋及遷徙", "Housing and moving"),
)

# The child, teen and senior bands use the ages Taiwanese welfare law gives
# 兒童 (under 12), 少年 (12 to 17) and 老人 (65 and over). The other cut points
# are this portal's choice.
AGE_GROUPS: tuple[Term, ...] = (
    Term("infant", "嬰幼兒（0至2歲）", "Infants (0 to 2)"),
    Term("child", "兒童（3至11歲）", "Children (3 to 11)"),
    Term("teen", "少年（12至17歲）", "Teenagers (12 to 17)"),
    Term("young-adult", "青年（18至34歲）", "Young adults (18 to 34)"),
    Term("adult", "壯年（35至64歲）", "Adults (35 to 64)"),
    Term("senior", "長者（65歲以上）", "Seniors (65 and over)"),
)

# Application methods (申辦方式).
METHODS: tuple[Term, ...] = (
    Term("online", "線上申辦", "Online"),
    Term("counter", "臨櫃辦理", "At a service counter"),
    Term("mail", "郵寄申辦", "By mail"),
    Term("phone", "電話申辦", "By phone"),
)


def slugs(terms: tuple[Term, ...]) -> tuple[str, ...]:
    """Return the slugs of ``terms`` in their fixed order."""
    return tuple(term.slug for term in terms)


def term_by_slug(terms: tuple[Term, ...], slug: str) -> Term | None:
    """Return the term with ``slug``, or None if the list has no such slug."""
    return next((term for term in terms if term.slug == slug), None)
