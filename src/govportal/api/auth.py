"""Authentication of API requests by key, with the per-key and per-address limits."""

import logging
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from govportal.api import ratelimit
from govportal.api.errors import ApiError
from govportal.api.keys import KeyProblem, check_key, record_use
from govportal.api.models import ApiKey, Environment

logger = logging.getLogger(__name__)

BASE_PATHS = {
    Environment.PRODUCTION: "/api/v2/",
    Environment.TEST: "/api/sandbox/v2/",
}
# Query parameters that look like a credential. Any of them rejects the
# request, because the address ends up in access logs and proxies.
CREDENTIAL_PARAMETERS = frozenset(
    {"api_key", "apikey", "key", "access_token", "token", "authorization"}
)
CHALLENGE = 'Bearer realm="govportal-api"'


class ApiKeyAuth(HttpBearer):
    """Accept ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

    Returns the ``ApiKey``, or raises ``ApiError`` with 400, 401 or 429.
    """

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        super().__init__()

    def __call__(self, request: HttpRequest) -> ApiKey:
        client = request.META.get("REMOTE_ADDR", "")
        if ratelimit.current("failures", client) >= ratelimit.failures_per_minute():
            seconds = ratelimit.seconds_to_next_window()
            logger.warning("api auth blocked client=%r: too many invalid keys", client)
            raise ApiError(
                429,
                "too_many_failures",
                {"seconds": seconds},
                headers={"Retry-After": str(seconds)},
            )
        if CREDENTIAL_PARAMETERS & {name.lower() for name in request.GET}:
            self._count_failure(client, "key in query string")
            raise ApiError(400, "key_in_query")
        presented = self._presented_key(request)
        if presented is None:
            self._count_failure(client, "no key")
            raise ApiError(401, "missing_key", headers={"WWW-Authenticate": CHALLENGE})
        now = timezone.now()
        try:
            key = check_key(presented, self.environment, now)
        except KeyProblem as problem:
            raise self._rejection(client, problem) from None
        self._check_rate(key)
        record_use(key, now)
        return key

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        # Unused: __call__ reads both headers and does the whole check.
        raise NotImplementedError

    def _presented_key(self, request: HttpRequest) -> str | None:
        authorization = request.headers.get("Authorization", "").strip()
        if authorization:
            scheme, _space, token = authorization.partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            return ""
        api_key = request.headers.get("X-API-Key", "").strip()
        return api_key or None

    def _rejection(self, client: str, problem: KeyProblem) -> ApiError:
        prefix = problem.key.prefix if problem.key else "-"
        self._count_failure(client, f"{problem.code} prefix={prefix}")
        params: dict[str, Any] = {}
        if problem.code == "expired_key" and problem.key and problem.key.expires_at:
            params["expired_at"] = problem.key.expires_at.isoformat()
        if problem.code == "wrong_environment" and problem.key:
            environment = Environment(problem.key.environment)
            params = {"environment": environment.value, "path": BASE_PATHS[environment]}
        return ApiError(
            401, problem.code, params, headers={"WWW-Authenticate": CHALLENGE}
        )

    def _count_failure(self, client: str, reason: str) -> None:
        failures = ratelimit.count("failures", client)
        logger.warning(
            "api auth rejected client=%r environment=%s reason=%s failures=%d",
            client,
            self.environment.value,
            reason,
            failures,
        )
        if failures == ratelimit.failures_per_minute():
            logger.error(
                "api auth alert client=%r reached %d invalid keys in a minute",
                client,
                failures,
            )

    def _check_rate(self, key: ApiKey) -> None:
        limit = ratelimit.requests_per_minute()
        if ratelimit.count("key", str(key.pk)) > limit:
            seconds = ratelimit.seconds_to_next_window()
            logger.warning("api rate limit prefix=%s limit=%d", key.prefix, limit)
            raise ApiError(
                429,
                "rate_limited",
                {"limit": limit, "seconds": seconds},
                headers={"Retry-After": str(seconds)},
            )
