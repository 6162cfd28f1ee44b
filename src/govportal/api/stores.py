"""Service storage per environment: the publishing core or the sandbox table.

Both stores take data already validated by ``validate_service`` and the
caller's ``ApiKey``, and only ever see the key's own agency. A service of
another agency is reported as missing, exactly like one that does not exist.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation

from govportal.api.conformance import accepted_report
from govportal.api.errors import ApiError
from govportal.api.models import ApiKey, Environment, SandboxService
from govportal.publishing import workflow
from govportal.publishing.errors import (
    ConcurrentChangeError,
    InvalidTransitionError,
    PublishingError,
)
from govportal.publishing.snapshot import Snapshot, carry_field_changes, content_hash
from govportal.publishing.states import Action, State, allowed_from
from govportal.services.errors import SITE_LANGUAGES, ServiceValidationError
from govportal.services.models import Service
from govportal.services.records import create_service

logger = logging.getLogger(__name__)

ORDERINGS = {
    "agency_service_id": ("agency_service_id",),
    "-agency_service_id": ("-agency_service_id",),
    "updated_at": ("updated_at", "agency_service_id"),
    "-updated_at": ("-updated_at", "agency_service_id"),
}


@dataclass
class ServiceRecord:
    """A service as the API returns it."""

    agency_service_id: str
    agency: str
    environment: Environment
    state: str
    current_revision: int
    published_revision: int | None
    updated_at: datetime
    data: Snapshot
    published_data: Snapshot | None
    conformance: dict[str, Any] | None = field(default=None)

    @property
    def etag(self) -> str:
        return f'"r{self.current_revision}"'

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "agency_service_id": self.agency_service_id,
            "agency": self.agency,
            "environment": self.environment.value,
            "state": self.state,
            "current_revision": self.current_revision,
            "published_revision": self.published_revision,
            "updated_at": self.updated_at.isoformat(),
            "data": self.data,
            "published_data": self.published_data,
        }
        if self.conformance is not None:
            body["conformance"] = self.conformance
        return body

    def summary(self) -> dict[str, Any]:
        """Return the fields a listing shows."""
        return {
            "agency_service_id": self.agency_service_id,
            "state": self.state,
            "current_revision": self.current_revision,
            "published_revision": self.published_revision,
            "updated_at": self.updated_at.isoformat(),
            "name_zh": self.data.get("name_zh", ""),
            "name_en": self.data.get("name_en", ""),
        }


@dataclass(frozen=True)
class ListFilter:
    state: str | None
    updated_since: datetime | None
    ordering: str


class Store(Protocol):
    environment: Environment

    def get(self, key: ApiKey, service_id: str) -> ServiceRecord | None: ...

    def put(
        self, key: ApiKey, service_id: str, snapshot: Snapshot, if_match: str | None
    ) -> tuple[ServiceRecord, bool]: ...

    def withdraw(self, key: ApiKey, service_id: str, reason: str) -> ServiceRecord: ...

    def page(
        self, key: ApiKey, filters: ListFilter, offset: int, limit: int
    ) -> tuple[int, list[ServiceRecord]]: ...


def check_if_match(header: str | None, current: int | None) -> None:
    """Raise 409 unless ``If-Match`` is absent or names the current revision."""
    if header is None:
        return
    tags = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    if current is not None and ("*" in tags or f'"r{current}"' in tags):
        return
    requested = header.strip()[:40]
    current_tag = f'"r{current}"' if current is not None else "-"
    raise ApiError(
        409,
        "stale_revision",
        {"current": current_tag, "requested": requested},
        extra={"current_revision": current},
    )


def not_found(key: ApiKey, service_id: str) -> ApiError:
    """Return the 404 error, logging requests for another agency's service."""
    elsewhere = (
        Service.objects.filter(agency_service_id=service_id)
        .exclude(agency=key.agency)
        .exists()
    )
    if elsewhere:
        logger.warning(
            "api request rejected prefix=%s agency=%s service=%r: other agency's",
            key.prefix,
            key.agency.key,
            service_id,
        )
    return ApiError(404, "not_found", {"service_id": service_id[:100]})


def publishing_conflict(error: PublishingError) -> ApiError:
    """Return a rejected workflow operation as a 409 in both languages."""
    texts = {}
    for language in SITE_LANGUAGES:
        with translation.override(language):
            texts[language] = str(error)
    return ApiError(409, error.code, message=texts)


class ProductionStore:
    """Services in the publishing core: every change is submitted for review."""

    environment = Environment.PRODUCTION

    def _queryset(self, key: ApiKey) -> QuerySet[Service]:
        return Service.objects.filter(agency=key.agency).select_related(
            "current_revision", "published_revision", "agency"
        )

    def _record(self, service: Service) -> ServiceRecord:
        current = service.current_revision
        published = service.published_revision
        if current is None:
            raise ValueError(f"{service.publishing_label()} has no revision.")
        return ServiceRecord(
            agency_service_id=service.agency_service_id,
            agency=service.agency.key,
            environment=self.environment,
            state=service.state,
            current_revision=current.number,
            published_revision=published.number if published else None,
            updated_at=service.updated_at,
            data=current.snapshot,
            published_data=published.snapshot if published else None,
        )

    def get(self, key: ApiKey, service_id: str) -> ServiceRecord | None:
        # The id is unique per agency, so get() needs no ORDER BY.
        try:
            service = self._queryset(key).get(agency_service_id=service_id)
        except Service.DoesNotExist:
            return None
        return self._record(service)

    def put(
        self, key: ApiKey, service_id: str, snapshot: Snapshot, if_match: str | None
    ) -> tuple[ServiceRecord, bool]:
        try:
            with transaction.atomic():
                created = self._write(key, service_id, snapshot, if_match)
        except PublishingError as error:
            raise publishing_conflict(error) from None
        record = self.get(key, service_id)
        if record is None:
            raise ValueError(f"service {service_id!r} vanished after the write")
        return record, created

    def _write(
        self, key: ApiKey, service_id: str, snapshot: Snapshot, if_match: str | None
    ) -> bool:
        service = (
            Service.objects.select_for_update()
            .filter(agency=key.agency, agency_service_id=service_id)
            .first()
        )
        revision = service.current_revision if service else None
        current = revision.number if revision else None
        check_if_match(if_match, current)
        if service is None:
            try:
                service = create_service(key.agency, service_id, snapshot, key.user)
            except ServiceValidationError as error:
                # Another request created the same service since the lookup.
                conflict = ConcurrentChangeError(
                    item=service_id, action=Action.CREATE.label
                )
                raise publishing_conflict(conflict) from error
            created = True
        else:
            workflow.edit(service, snapshot, key.user)
            created = False
        if service.state in allowed_from(Action.SUBMIT):
            workflow.submit(service, key.user)
        return created

    def withdraw(self, key: ApiKey, service_id: str, reason: str) -> ServiceRecord:
        service = Service.objects.filter(
            agency=key.agency, agency_service_id=service_id
        ).first()
        if service is None:
            raise not_found(key, service_id)
        try:
            workflow.withdraw(service, key.user, reason)
        except PublishingError as error:
            raise publishing_conflict(error) from None
        record = self.get(key, service_id)
        if record is None:
            raise ValueError(f"service {service_id!r} vanished after withdrawal")
        return record

    def page(
        self, key: ApiKey, filters: ListFilter, offset: int, limit: int
    ) -> tuple[int, list[ServiceRecord]]:
        services = self._queryset(key)
        if filters.state:
            services = services.filter(state=filters.state)
        if filters.updated_since:
            services = services.filter(updated_at__gte=filters.updated_since)
        services = services.order_by(*ORDERINGS[filters.ordering])
        total = services.count()
        return total, [self._record(s) for s in services[offset : offset + limit]]


class SandboxStore:
    """Services of the test environment: stored apart and never published."""

    environment = Environment.TEST

    def _record(self, row: SandboxService) -> ServiceRecord:
        return ServiceRecord(
            agency_service_id=row.agency_service_id,
            agency=row.agency.key,
            environment=self.environment,
            state=row.state,
            current_revision=row.revision,
            published_revision=None,
            updated_at=row.updated_at,
            data=row.snapshot,
            published_data=None,
            conformance=accepted_report(row.snapshot, row.field_changes),
        )

    def _queryset(self, key: ApiKey) -> QuerySet[SandboxService]:
        return SandboxService.objects.filter(agency=key.agency).select_related("agency")

    def get(self, key: ApiKey, service_id: str) -> ServiceRecord | None:
        try:
            row = self._queryset(key).get(agency_service_id=service_id)
        except SandboxService.DoesNotExist:
            return None
        return self._record(row)

    def put(
        self, key: ApiKey, service_id: str, snapshot: Snapshot, if_match: str | None
    ) -> tuple[ServiceRecord, bool]:
        now = timezone.now()
        digest = content_hash(snapshot)
        with transaction.atomic():
            row = (
                self._queryset(key)
                .select_for_update(of=("self",))
                .filter(agency_service_id=service_id)
                .first()
            )
            check_if_match(if_match, row.revision if row else None)
            created = row is None
            if row is None:
                row = SandboxService(
                    agency=key.agency,
                    agency_service_id=service_id,
                    revision=1,
                    snapshot=snapshot,
                    content_hash=digest,
                    field_changes=carry_field_changes({}, {}, snapshot, 1, now),
                    state=State.SUBMITTED,
                    created_at=now,
                    updated_at=now,
                )
                row.save(force_insert=True)
            elif row.content_hash != digest:
                number = row.revision + 1
                row.field_changes = carry_field_changes(
                    row.snapshot, row.field_changes, snapshot, number, now
                )
                row.revision = number
                row.snapshot = snapshot
                row.content_hash = digest
                row.state = State.SUBMITTED
                row.updated_at = now
                row.save()
            elif row.state == State.WITHDRAWN:
                # Production submits unchanged content again after a withdrawal.
                row.state = State.SUBMITTED
                row.updated_at = now
                row.save(update_fields=["state", "updated_at"])
        return self._record(row), created

    def withdraw(self, key: ApiKey, service_id: str, reason: str) -> ServiceRecord:
        row = self._queryset(key).filter(agency_service_id=service_id).first()
        if row is None:
            raise ApiError(404, "not_found", {"service_id": service_id[:100]})
        if row.state == State.WITHDRAWN:
            # The same refusal production gives for a second withdrawal.
            raise publishing_conflict(_invalid_withdrawal(row))
        row.state = State.WITHDRAWN
        row.updated_at = timezone.now()
        row.save(update_fields=["state", "updated_at"])
        return self._record(row)

    def page(
        self, key: ApiKey, filters: ListFilter, offset: int, limit: int
    ) -> tuple[int, list[ServiceRecord]]:
        rows = self._queryset(key)
        if filters.state:
            rows = rows.filter(state=filters.state)
        if filters.updated_since:
            rows = rows.filter(updated_at__gte=filters.updated_since)
        rows = rows.order_by(*ORDERINGS[filters.ordering])
        total = rows.count()
        return total, [self._record(row) for row in rows[offset : offset + limit]]


def _invalid_withdrawal(row: SandboxService) -> PublishingError:
    return InvalidTransitionError(
        action=Action.WITHDRAW.label,
        item=f"sandbox service {row.agency_service_id}",
        state=State.WITHDRAWN.label,
        allowed=[State(state).label for state in allowed_from(Action.WITHDRAW)],
    )


STORES: dict[Environment, Store] = {
    Environment.PRODUCTION: ProductionStore(),
    Environment.TEST: SandboxStore(),
}
