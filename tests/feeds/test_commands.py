"""The operator commands, as scripts call them."""

import json
from datetime import datetime, timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from govportal.agencies.models import Agency
from govportal.demo.replay import FEEDS_DIR, shift_dates
from govportal.feeds.ingest import claim_due_feeds
from govportal.feeds.models import Feed
from govportal.feeds.tasks import queue_due_feeds
from govportal.news.models import NewsItem
from tests.feeds.conftest import case_bytes
from tests.support.fixture_server import Response

pytestmark = pytest.mark.usefixtures("loopback_allowed")

RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}


def run(*args):
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def baseline_now() -> bytes:
    """The baseline case with its date moved to an hour ago."""
    text = case_bytes("00-baseline.xml").decode("utf-8")
    return shift_dates(text, datetime.now(tz=timezone.get_current_timezone())).encode()


def test_feeds_add_prints_id_and_keeps_report(server, county):
    server.route("/rss.xml", Response(200, RSS, baseline_now()))
    output = run("feeds", "add", county.code, server.url("/rss.xml"))
    feed = Feed.objects.get()
    assert output.strip() == str(feed.id)
    assert feed.state == Feed.State.PENDING
    report = feed.check_report
    assert report["ok"] is True
    assert report["items"] == 1
    assert report["dated_items"] == 1
    assert report["kind"] == "rss2"
    assert report["encoding"].lower().replace("-", "") == "utf8"


def test_feeds_add_with_approve_makes_feed_active(server, county):
    server.route("/rss.xml", Response(200, RSS, baseline_now()))
    feed_id = int(run("feeds", "add", county.code, server.url("/rss.xml"), "--approve"))
    feed = Feed.objects.get(id=feed_id)
    assert feed.state == Feed.State.ACTIVE
    assert feed.approved_at is not None


def test_feeds_add_refuses_to_approve_a_failing_check(server, county):
    server.route(
        "/rss.xml", Response(200, {"Content-Type": "text/html"}, b"<html></html>")
    )
    with pytest.raises(CommandError, match="Not approved"):
        run("feeds", "add", county.code, server.url("/rss.xml"), "--approve")
    assert Feed.objects.count() == 0


def test_feeds_add_keeps_failed_check_report(server, county):
    server.route("/rss.xml", Response(404, {}))
    run("feeds", "add", county.code, server.url("/rss.xml"))
    feed = Feed.objects.get()
    assert feed.state == Feed.State.PENDING
    assert feed.check_report["ok"] is False
    assert feed.check_report["error"]["code"] == "http_status"
    assert "404" in feed.check_report["error"]["message_en"]
    assert "404" in feed.check_report["error"]["message_zh"]


def test_feeds_add_duplicate_for_same_agency_rejected(server, county):
    server.route("/rss.xml", Response(200, RSS, baseline_now()))
    run("feeds", "add", county.code, server.url("/rss.xml"))
    with pytest.raises(CommandError, match="already has this address"):
        run("feeds", "add", county.code, server.url("/rss.xml"))
    assert Feed.objects.count() == 1


def test_same_address_other_agency_separate(server, county):
    other = Agency.objects.create(code="376430000A", name_zh="桃園縣政府")
    server.route("/rss.xml", Response(200, RSS, baseline_now()))
    first = int(run("feeds", "add", county.code, server.url("/rss.xml")))
    second = int(run("feeds", "add", other.code, server.url("/rss.xml")))
    assert first != second
    assert Feed.objects.get(id=second).agency == other
    assert Feed.objects.get(id=first).agency == county


def test_feeds_add_unknown_agency_names_the_code(db):
    with pytest.raises(CommandError, match="ZZZ"):
        run("feeds", "add", "ZZZ", "https://www.example.gov.tw/rss.xml")


def test_feeds_fetch_all_prints_a_line_per_feed(server, make_feed):
    server.route("/good.xml", Response(200, RSS, baseline_now()))
    server.route("/gone.xml", Response(404, {}))
    good, missing = make_feed("/good.xml"), make_feed("/gone.xml")
    lines = run("feeds", "fetch", "--all").strip().splitlines()
    assert len(lines) == 2
    by_id = {int(line.split("\t")[0]): line for line in lines}
    assert "\tactive\t" in by_id[good.id]
    assert "new=1" in by_id[good.id]
    assert "\tfailing\t" in by_id[missing.id]
    assert "404" in by_id[missing.id]


def test_news_list_json_fields(server, make_feed):
    server.route("/rss.xml", Response(200, RSS, baseline_now()))
    feed = make_feed("/rss.xml")
    run("feeds", "fetch", str(feed.id))
    records = json.loads(run("news", "list", "--json"))
    assert len(records) == 1
    record = records[0]
    assert record["title"] == "範例縣政府 新聞稿：本週施政重點"
    assert record["link"].startswith("https://www.example.gov.tw/")
    assert datetime.fromisoformat(record["published_at"]).utcoffset() == timedelta(
        hours=8
    )
    assert record["agency_code"] == feed.agency.code
    assert record["feed_ids"] == [feed.id]
    assert isinstance(record["summary_html"], str)
    assert record["flags"] == []


def test_aggregated_feed_items_credited_by_oid(server, county):
    ey = Agency.objects.create(
        code="A00000000A", oid="2.16.886.101.20003", name_zh="行政院"
    )
    labour = Agency.objects.create(
        code="A17000000J", oid="2.16.886.101.20003.20063", name_zh="勞動部"
    )
    body = shift_dates(
        (FEEDS_DIR / "ey-ministry-news-2026-07-20.xml").read_text(encoding="utf-8"),
        timezone.now(),
    ).encode()
    server.route("/ey.xml", Response(200, RSS, body))
    feed = Feed.objects.create(agency=ey, url=server.url("/ey.xml"), state="active")
    run("feeds", "fetch", str(feed.id))
    assert NewsItem.objects.count() == 100
    assert NewsItem.objects.filter(agency=labour).count() == 2
    # Items without an author, or of agencies not in the registry, stay with 行政院.
    assert NewsItem.objects.filter(agency=ey).count() == 98


def test_claim_takes_each_due_feed_once(make_feed):
    due = make_feed("/a.xml")
    later = make_feed("/b.xml")
    later.next_fetch_at = timezone.now() + timedelta(hours=1)
    later.save()
    pending = make_feed("/c.xml")
    pending.state = Feed.State.PENDING
    pending.save()
    now = timezone.now()
    assert claim_due_feeds(now) == [due.id]
    assert claim_due_feeds(now) == []


def test_scheduler_queues_and_fetches_due_feeds(server, make_feed):
    server.route("/rss.xml", Response(200, RSS, baseline_now()))
    feed = make_feed("/rss.xml")
    assert queue_due_feeds() == 1
    feed.refresh_from_db()
    assert feed.last_success_at is not None
    assert feed.claimed_until is None
    assert NewsItem.objects.count() == 1
