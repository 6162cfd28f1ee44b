"""The fixed lists: 18 life events, age groups and application methods."""

from govportal.services.vocabularies import AGE_GROUPS, LIFE_EVENTS, METHODS, slugs

LIFE_EVENT_NAMES = (
    "公共資訊、生育保健、生活安全及品質、服兵役、交通及通訊、老年安養、投資理財、"
    "選舉及投票、休閒旅遊、生命禮儀、開創事業、出生及收養、就醫、婚姻、求學及進修、"
    "退休、求職及就業、購屋及遷徙"
).split("、")


def test_life_events_are_the_eighteen():
    assert [term.name_zh for term in LIFE_EVENTS] == LIFE_EVENT_NAMES


def test_slugs_unique_and_url_safe():
    for terms in (LIFE_EVENTS, AGE_GROUPS, METHODS):
        values = slugs(terms)
        assert len(set(values)) == len(values)
        assert all(value.isascii() and value == value.lower() for value in values)
        assert all(" " not in value for value in values)


def test_every_term_has_english_name():
    for terms in (LIFE_EVENTS, AGE_GROUPS, METHODS):
        assert all(term.name_en for term in terms)


def test_methods_are_the_four():
    assert slugs(METHODS) == ("online", "counter", "mail", "phone")
