"""Loading of the published services into plain objects for the service pages.

Only ``published_revision`` snapshots are read, so a draft or an edit waiting
for review never reaches the public, and a withdrawn service (whose published
revision the workflow clears) disappears. One query loads every service with
its agency and published revision.
"""

import logging
from dataclasses import dataclass, field
from typing import Any

from govportal.services.models import Service
from govportal.services.vocabularies import LIFE_EVENTS

from .paths import SERVICE_LIST_FOLDERS, is_safe_agency_key, is_safe_service_id

logger = logging.getLogger(__name__)

LIFE_EVENT_SLUGS = frozenset(term.slug for term in LIFE_EVENTS)


@dataclass(slots=True)
class ServiceEntry:
    """A published service: its identity and its published snapshot."""

    pk: int
    agency_key: str
    service_id: str
    agency_name_zh: str
    # The agency's English name, or "" when the agency has none.
    agency_name_en: str
    snapshot: dict[str, Any]
    # Life-event slugs from the snapshot that the vocabulary contains, in its order.
    categories: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        """The service's path below services/, such as ``A15000000A/S-001``."""
        return f"{self.agency_key}/{self.service_id}"

    @property
    def has_english(self) -> bool:
        """Whether the published revision has an English name and content."""
        return bool(self.text("name_en")) and bool(self.text("content_en"))

    def text(self, key: str) -> str:
        value = self.snapshot.get(key)
        return value.strip() if isinstance(value, str) else ""

    def terms(self, key: str) -> list[str]:
        value = self.snapshot.get(key)
        if not isinstance(value, list):
            return []
        return [slug for slug in value if isinstance(slug, str)]


@dataclass(slots=True)
class ServiceContent:
    # Sorted by agency key and service id.
    services: list[ServiceEntry]

    def by_pk(self) -> dict[int, ServiceEntry]:
        return {entry.pk: entry for entry in self.services}


def load_services() -> ServiceContent:
    """Load every service that has a published revision and a URL-safe key."""
    rows = (
        Service.objects.filter(published_revision__isnull=False)
        .select_related("agency", "published_revision")
        .order_by("agency__code", "agency__oid", "agency_service_id", "pk")
    )
    services: list[ServiceEntry] = []
    for service in rows.iterator(chunk_size=2000):
        agency = service.agency
        agency_key = agency.key
        if not is_valid_service_key(agency_key, service.agency_service_id):
            logger.warning(
                "Service id=%s has agency key %r and id %r, which cannot be used "
                "in a URL path, so it gets no public page.",
                service.pk,
                agency_key,
                service.agency_service_id,
            )
            continue
        revision = service.published_revision
        assert revision is not None  # The query only selects published services.
        snapshot = dict(revision.snapshot)
        entry = ServiceEntry(
            pk=service.pk,
            agency_key=agency_key,
            service_id=service.agency_service_id,
            agency_name_zh=agency.name_zh,
            agency_name_en=agency.name_en.strip(),
            snapshot=snapshot,
        )
        known = set(entry.terms("categories")) & LIFE_EVENT_SLUGS
        entry.categories = [term.slug for term in LIFE_EVENTS if term.slug in known]
        services.append(entry)
    services.sort(key=lambda entry: (entry.agency_key, entry.service_id))
    return ServiceContent(services=services)


def is_valid_service_key(agency_key: str, service_id: str) -> bool:
    """Check that a service's agency key and id make a safe, unambiguous path."""
    return (
        is_safe_agency_key(agency_key)
        and agency_key not in SERVICE_LIST_FOLDERS
        and is_safe_service_id(service_id)
    )
