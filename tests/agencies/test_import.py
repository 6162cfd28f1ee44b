from datetime import date

import pytest
from django.core.management import call_command

from govportal.agencies.models import Agency
from govportal.agencies.registry import parse_roc_date


def test_roc_dates_convert_to_western_years():
    assert parse_roc_date("0961106") == date(2007, 11, 6)
    assert parse_roc_date("1110101") == date(2022, 1, 1)
    assert parse_roc_date("0000000") is None
    assert parse_roc_date("") is None
    assert parse_roc_date("0961399") is None


@pytest.mark.django_db(transaction=True)
def test_import_twice_creates_nothing_new(capsys):
    call_command("agencies", "import")
    first = capsys.readouterr().out
    count = Agency.objects.count()
    assert count > 20000
    assert "created" in first

    call_command("agencies", "import")
    second = capsys.readouterr().out
    assert Agency.objects.count() == count
    assert "0 created, 0 updated" in second

    # OIDs from the directory are matched to DGPA codes by name and parent.
    labour = Agency.objects.get(oid="2.16.886.101.20003.20063")
    assert labour.code == "A17000000J"
    assert labour.name_zh == "勞動部"
    assert labour.parent.code == "A00000000A"

    # 內政部 has an old and a renumbered code; the OID goes to the newer one.
    assert Agency.objects.get(oid="2.16.886.101.20003.20001").code == "A01000000A"

    # The top-level list gives English names and websites.
    president = Agency.objects.get(code="200000000A")
    assert president.name_en == "Office of the President"

    # Abolished agencies keep their dates and successor.
    abolished = Agency.objects.get(code="301080000G")
    assert abolished.abolished_on == date(2007, 11, 6)
    assert abolished.successor.code == "301000100G"

    # An agency only in the OID directory is kept, keyed by its OID.
    assert Agency.objects.filter(code=None).count() > 1000


@pytest.mark.django_db(transaction=True)
def test_import_keeps_english_name_set_by_administrator():
    call_command("agencies", "import")
    Agency.objects.filter(code="A17000000J").update(name_en="Ministry of Labor")
    Agency.objects.filter(code="200000000A").update(name_en="President's Office")
    call_command("agencies", "import")
    assert Agency.objects.get(code="A17000000J").name_en == "Ministry of Labor"
    assert Agency.objects.get(code="200000000A").name_en == "President's Office"
