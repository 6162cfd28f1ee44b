"""Loading the demo's service catalogue through the integration API.

The demo acts as the agencies' own systems would: each agency gets a test
and a production key, sends a few services to the sandbox first, then sends
its services to production over HTTP. An operator account approves part of
them, so the public site shows a catalogue and the review queue has work.
"""

import json
import logging
import secrets
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User

from govportal.agencies.models import Agency
from govportal.api.keys import issue_key, revoke_key
from govportal.api.models import ApiKey, Environment
from govportal.demo.services import (
    CENTRAL_AGENCY_CODE,
    CENTRAL_GOVERNMENT,
    ServiceTitle,
    read_service_titles,
    sample_body,
)
from govportal.publishing import workflow
from govportal.publishing.states import State
from govportal.services.models import Service

logger = logging.getLogger(__name__)

DEMO_KEY_LABEL = "demo integration"
OPERATOR = "operator"
# Every third service carries English text; two of three are approved.
ENGLISH_EVERY = 3
APPROVE_EVERY = 3


@dataclass
class CatalogueReport:
    sent: int = 0
    sandbox_checked: int = 0
    approved: int = 0
    failed: list[str] = field(default_factory=list)


def find_agency_by_name(name: str) -> Agency | None:
    """Return the agency now in office under ``name``, preferring a code."""
    if name == CENTRAL_GOVERNMENT:
        return Agency.objects.filter(code=CENTRAL_AGENCY_CODE).first()
    candidates = Agency.objects.filter(name_zh=name, abolished_on=None)
    return candidates.exclude(code=None).order_by("-established_on").first() or (
        candidates.first()
    )


def _put(base_url: str, key: str, service_id: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(  # noqa: S310  (loopback demo server)
        f"{base_url}/services/{service_id}",
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        method="PUT",
        headers={
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        logger.warning(
            "demo service rejected service_id=%s status=%d body=%s",
            service_id,
            error.code,
            error.read()[:300],
        )
        return int(error.code)


def _demo_keys(agency: Agency) -> dict[Environment, str]:
    # Keys of an earlier demo run were printed nowhere, so they are revoked.
    for old in ApiKey.objects.filter(
        agency=agency, label=DEMO_KEY_LABEL, revoked_at=None
    ):
        revoke_key(old)
    return {
        environment: issue_key(agency, environment, DEMO_KEY_LABEL).secret
        for environment in (Environment.TEST, Environment.PRODUCTION)
    }


def load_catalogue(api_origin: str, reviewer: User) -> CatalogueReport:
    """Send the demo services through the API at ``api_origin`` and approve some."""
    report = CatalogueReport()
    by_agency: dict[int, tuple[Agency, list[ServiceTitle]]] = {}
    for title in read_service_titles():
        agency = find_agency_by_name(title.organ)
        if agency is None:
            report.failed.append(f"{title.title}: no agency named {title.organ}")
            continue
        by_agency.setdefault(agency.id, (agency, []))[1].append(title)

    for agency, titles in by_agency.values():
        keys = _demo_keys(agency)
        for title in titles[:2]:
            status = _put(
                f"{api_origin}/api/sandbox/v2",
                keys[Environment.TEST],
                title.agency_service_id,
                sample_body(title, with_english=True),
            )
            report.sandbox_checked += int(status in (200, 201))
        for number, title in enumerate(titles):
            body = sample_body(title, with_english=number % ENGLISH_EVERY == 0)
            status = _put(
                f"{api_origin}/api/v2",
                keys[Environment.PRODUCTION],
                title.agency_service_id,
                body,
            )
            if status in (200, 201):
                report.sent += 1
            else:
                report.failed.append(f"{title.title}: HTTP {status}")

    report.approved = approve_share(reviewer)
    return report


def approve_share(reviewer: User) -> int:
    """Approve two of every three services waiting for central review."""
    approved = 0
    waiting = Service.objects.filter(state=State.SUBMITTED).order_by("id")
    for number, service in enumerate(waiting):
        if number % APPROVE_EVERY == APPROVE_EVERY - 1:
            continue
        workflow.start_review(service, reviewer)
        service.refresh_from_db()
        assert service.current_revision is not None
        workflow.approve(service, service.current_revision.number, reviewer)
        approved += 1
    logger.info("demo services approved count=%d", approved)
    return approved


def demo_reviewer() -> tuple[User, str | None]:
    """Return the demo's central operator account and, when new, its password."""
    user = User.objects.filter(username=OPERATOR).first()
    if user is not None:
        return user, None
    password = secrets.token_urlsafe(12)
    return User.objects.create_superuser(OPERATOR, "", password), password
