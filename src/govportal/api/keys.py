"""Issuing, revoking and checking API keys.

A key reads ``gpk_<word>_<public id>_<secret>``: the word is ``test`` or
``live`` for the environment, the public id (12 characters) finds the row
and the secret (64 hex digits, 256 random bits) is never stored. The row
stores the SHA-256 of the whole key, which is enough against guessing
because the secret is random, unlike a password.
"""

import hashlib
import hmac
import logging
import re
import secrets
import string
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from govportal.agencies.models import Agency
from govportal.api.models import KEY_PREFIX_WORDS, ApiKey, Environment

logger = logging.getLogger(__name__)

KEY_PATTERN = re.compile(r"gpk_(test|live)_([a-z0-9]{12})_([0-9a-f]{64})")
PUBLIC_ID_ALPHABET = string.ascii_lowercase + string.digits
PUBLIC_ID_LENGTH = 12
ENVIRONMENT_BY_WORD = {word: env for env, word in KEY_PREFIX_WORDS.items()}
# last_used_at is written at most this often per key, so a busy integration
# does not turn every read into a write.
LAST_USED_INTERVAL = timedelta(minutes=1)
# Compared against when the public id is unknown, so both paths hash once.
_UNKNOWN_KEY_HASH = "0" * 64


@dataclass(frozen=True)
class IssuedKey:
    """A new key: ``secret`` is the full key, shown to the caller once."""

    key: ApiKey
    secret: str


def hash_key(full_key: str) -> str:
    return hashlib.sha256(full_key.encode()).hexdigest()


def integration_user(agency: Agency) -> User:
    """Return the account the agency's API calls are recorded as, creating it once.

    The account has an unusable password, so no one can sign in with it.
    """
    user, created = User.objects.get_or_create(username=f"api-{agency.key.lower()}")
    if created:
        user.set_unusable_password()
        user.save()
    return user


def issue_key(
    agency: Agency,
    environment: Environment,
    label: str = "",
    valid_for: timedelta | None = None,
) -> IssuedKey:
    """Create a key for the agency's integration in ``environment``."""
    now = timezone.now()
    word = KEY_PREFIX_WORDS[environment]
    with transaction.atomic():
        public_id = "".join(
            secrets.choice(PUBLIC_ID_ALPHABET) for _ in range(PUBLIC_ID_LENGTH)
        )
        full_key = f"gpk_{word}_{public_id}_{secrets.token_hex(32)}"
        key = ApiKey.objects.create(
            agency=agency,
            user=integration_user(agency),
            environment=environment,
            public_id=public_id,
            key_hash=hash_key(full_key),
            label=label,
            created_at=now,
            expires_at=now + valid_for if valid_for else None,
        )
    logger.info(
        "api key issued prefix=%s agency=%s environment=%s",
        key.prefix,
        agency.key,
        environment.value,
    )
    return IssuedKey(key, full_key)


def revoke_key(key: ApiKey) -> bool:
    """Revoke the key from now on. Returns False if it was already revoked."""
    updated = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    key.refresh_from_db()
    if updated:
        logger.info("api key revoked prefix=%s", key.prefix)
    return bool(updated)


def find_key(reference: str) -> ApiKey | None:
    """Return the key named by its prefix, public id, full key or row id."""
    reference = reference.strip()
    match = KEY_PATTERN.fullmatch(reference)
    if match:
        reference = match.group(2)
    elif reference.startswith("gpk_"):
        reference = reference.rsplit("_", 1)[-1]
    query = Q(public_id=reference)
    if reference.isdigit():
        query |= Q(pk=int(reference))
    return ApiKey.objects.filter(query).select_related("agency").first()


class KeyProblem(Exception):
    """A key that does not authenticate, with the error code for the response."""

    def __init__(self, code: str, key: ApiKey | None = None) -> None:
        self.code = code
        self.key = key
        super().__init__(code)


def check_key(full_key: str, environment: Environment, now: datetime) -> ApiKey:
    """Return the valid key of ``environment`` or raise ``KeyProblem``."""
    match = KEY_PATTERN.fullmatch(full_key)
    public_id = match.group(2) if match else ""
    key = None
    if match:
        # get() rather than first(): public_id is unique, and first() would
        # add an ORDER BY that costs query compilation on every request.
        try:
            key = ApiKey.objects.select_related("agency", "user").get(
                public_id=public_id
            )
        except ApiKey.DoesNotExist:
            key = None
    expected = key.key_hash if key else _UNKNOWN_KEY_HASH
    if not hmac.compare_digest(hash_key(full_key), expected) or key is None:
        raise KeyProblem("invalid_key")
    if key.revoked_at is not None and key.revoked_at <= now:
        raise KeyProblem("revoked_key", key)
    if not key.user.is_active or key.agency.is_abolished:
        raise KeyProblem("revoked_key", key)
    if key.expires_at is not None and key.expires_at <= now:
        raise KeyProblem("expired_key", key)
    if key.environment != environment:
        raise KeyProblem("wrong_environment", key)
    return key


def record_use(key: ApiKey, now: datetime) -> None:
    """Store ``now`` as the key's last use unless it was stored in the last minute."""
    recent = now - LAST_USED_INTERVAL
    # The key row was just read, so most requests need no write at all. A
    # write would take SQLite's database lock even when it matched no row.
    if key.last_used_at is not None and key.last_used_at >= recent:
        return
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=recent), pk=key.pk
    ).update(last_used_at=now)
