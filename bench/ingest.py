"""Our side of targets T7 and T8: the real ingest into a scratch database."""

import os
import tempfile
import time


def configure_django() -> None:
    os.environ["GOVPORTAL_VAR_DIR"] = tempfile.mkdtemp(prefix="govportal-bench-")
    os.environ.setdefault("SECRET_KEY", "benchmark-only-secret-key")
    os.environ["GOVPORTAL_FETCH_ALLOWED_NETWORKS"] = "127.0.0.1/32"
    # The anchor keeps 50 requests in flight to its one host; so do we.
    os.environ["GOVPORTAL_FETCH_PER_HOST_LIMIT"] = "50"
    os.environ["GOVPORTAL_FETCH_CONCURRENCY"] = "50"
    os.environ["LOG_LEVEL"] = "ERROR"
    os.environ["DJANGO_SETTINGS_MODULE"] = "govportal.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def run_ingest(urls: list[str]) -> dict[str, float]:
    """Time our first fetch and conditional refresh of every URL, with storing."""
    from govportal.agencies.models import Agency
    from govportal.feeds.ingest import fetch_feeds
    from govportal.feeds.models import Feed
    from govportal.news.models import NewsItem

    agencies = Agency.objects.bulk_create(
        [Agency(code=f"B{n:08d}A", name_zh=f"機關{n:03d}") for n in range(100)]
    )
    Feed.objects.bulk_create(
        [
            Feed(agency=agencies[i % 100], url=url, state=Feed.State.ACTIVE)
            for i, url in enumerate(urls)
        ]
    )
    feeds = list(Feed.objects.select_related("agency").order_by("id"))

    started = time.perf_counter()
    outcomes = fetch_feeds(feeds)
    first = time.perf_counter() - started
    failed = [o for o in outcomes if not o.ok]
    stored = NewsItem.objects.count()

    feeds = list(Feed.objects.select_related("agency").order_by("id"))
    started = time.perf_counter()
    outcomes = fetch_feeds(feeds)
    refresh = time.perf_counter() - started
    not_modified = sum(1 for o in outcomes if o.result and o.result.status == 304)
    return {
        "first": first,
        "refresh": refresh,
        "stored": stored,
        "failed": len(failed),
        "not_modified": not_modified,
    }
