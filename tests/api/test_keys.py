"""API keys: issue, storage, environments, revocation, expiry and rate limits."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.utils import timezone

from govportal.api.keys import hash_key, issue_key, revoke_key
from govportal.api.models import ApiKey, Environment
from govportal.services.models import Service
from tests.api.conftest import (
    PASSPORT,
    PRODUCTION,
    SANDBOX,
    Api,
    assert_clean_error,
    stored_state,
)


def test_missing_key_401_with_challenge(db):
    response = Api(PRODUCTION, None).get("/services")

    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = assert_clean_error(response)
    assert body["code"] == "missing_key"
    assert "items" not in body


def test_garbage_key_401(db):
    response = Api(PRODUCTION, "gpk_live_notarealkey").get("/services")

    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_wrong_secret_401(live_key):
    forged = live_key[:-4] + ("0000" if not live_key.endswith("0000") else "1111")

    response = Api(PRODUCTION, forged).get("/services")

    assert response.status_code == 401
    assert_clean_error(response, forged)


def test_x_api_key_header_accepted(live_key):
    api = Api(PRODUCTION, None)

    response = api.get("/services", **{"X-API-Key": live_key})

    assert response.status_code == 200


def test_non_bearer_scheme_401(live_key):
    api = Api(PRODUCTION, None)

    response = api.get("/services", Authorization=f"Basic {live_key}")

    assert response.status_code == 401


def test_key_revoked_second_ago_401(agency):
    issued = issue_key(agency, Environment.PRODUCTION)
    api = Api(PRODUCTION, issued.secret)
    assert api.get("/services").status_code == 200

    revoke_key(issued.key)
    response = api.get("/services")

    assert response.status_code == 401
    assert_clean_error(response, issued.secret)
    assert response.json()["code"] == "revoked_key"


def test_expired_key_401(agency):
    issued = issue_key(agency, Environment.PRODUCTION, valid_for=timedelta(days=1))
    api = Api(PRODUCTION, issued.secret)

    with time_machine.travel(timezone.now() + timedelta(days=1, seconds=1)):
        response = api.get("/services")

    assert response.status_code == 401
    assert response.json()["code"] == "expired_key"


def test_test_key_on_production_401(test_key):
    response = Api(PRODUCTION, test_key).put("S-1", PASSPORT)

    assert response.status_code == 401
    body = assert_clean_error(response, test_key)
    assert body["code"] == "wrong_environment"
    assert "not valid for this environment" in body["message"]["en"]
    assert Service.objects.count() == 0


def test_production_key_on_sandbox_401(live_key):
    response = Api(SANDBOX, live_key).get("/services")

    assert response.status_code == 401
    assert "not valid for this environment" in response.json()["message"]["en"]


def test_prefixes_name_environment(agency):
    live = issue_key(agency, Environment.PRODUCTION)
    test = issue_key(agency, Environment.TEST)

    assert live.secret.startswith("gpk_live_")
    assert test.secret.startswith("gpk_test_")
    assert live.secret.startswith(live.key.prefix + "_")


@pytest.mark.parametrize("name", ["api_key", "access_token", "API_KEY"])
def test_key_in_query_string_rejected(live_key, name):
    api = Api(PRODUCTION, None)

    response = api.get("/services", {name: live_key})

    assert response.status_code == 400
    assert_clean_error(response, live_key)
    assert response.json()["code"] == "key_in_query"


def test_key_in_query_rejected_with_header(live, live_key):
    response = live.get("/services", {"api_key": live_key})

    assert response.status_code == 400


def test_other_agency_key_404_in_sandbox(sandbox, other_test_key):
    sandbox.put("MINE", PASSPORT)
    before = stored_state()

    response = Api(SANDBOX, other_test_key).get("/services/MINE")
    deleted = Api(SANDBOX, other_test_key).delete("MINE", {"reason": "x"})

    assert response.status_code == 404
    assert deleted.status_code == 404
    assert stored_state() == before


def test_invalid_keys_from_one_client_429(db, settings):
    settings.API_AUTH_FAILURES_PER_MINUTE = 5
    api = Api(PRODUCTION, "gpk_live_aaaaaaaaaaaa_" + "0" * 64)

    with time_machine.travel(timezone.now(), tick=False):
        statuses = [api.get("/services").status_code for _ in range(8)]

    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429] * 3


def test_blocked_client_blocked_with_valid_key(live_key, settings):
    settings.API_AUTH_FAILURES_PER_MINUTE = 2
    bad = Api(PRODUCTION, "nonsense")

    with time_machine.travel(timezone.now(), tick=False):
        bad.get("/services")
        bad.get("/services")
        response = Api(PRODUCTION, live_key).get("/services")

    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1


def test_rate_limit_per_key_429(live, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 3

    with time_machine.travel(timezone.now(), tick=False):
        statuses = [live.get("/services").status_code for _ in range(5)]

    assert statuses == [200, 200, 200, 429, 429]


def test_rate_limit_resets_next_minute(live, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        live.get("/services")
        limited = live.get("/services")
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        again = live.get("/services")

    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    assert again.status_code == 200


def test_rate_limit_separate_per_key(live, other_live_key, settings):
    settings.API_RATE_LIMIT_PER_MINUTE = 1

    with time_machine.travel(timezone.now(), tick=False):
        live.get("/services")
        other = Api(PRODUCTION, other_live_key).get("/services")

    assert other.status_code == 200


def test_last_used_at_written_once_a_minute(agency):
    issued = issue_key(agency, Environment.PRODUCTION)
    api = Api(PRODUCTION, issued.secret)
    start = timezone.now()

    with time_machine.travel(start, tick=False):
        api.get("/services")
    first = ApiKey.objects.get(pk=issued.key.pk).last_used_at
    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        api.get("/services")
    unchanged = ApiKey.objects.get(pk=issued.key.pk).last_used_at
    with time_machine.travel(start + timedelta(seconds=61), tick=False):
        api.get("/services")
    later = ApiKey.objects.get(pk=issued.key.pk).last_used_at

    assert first == start
    assert unchanged == start
    assert later == start + timedelta(seconds=61)


def test_database_holds_hash_only(agency):
    issued = issue_key(agency, Environment.PRODUCTION)
    row = ApiKey.objects.filter(pk=issued.key.pk).values().get()

    secret_part = issued.secret.rsplit("_", 1)[-1]
    assert row["key_hash"] == hash_key(issued.secret)
    assert all(secret_part not in str(value) for value in row.values())


def test_suspended_integration_401(agency, live_key):
    key = ApiKey.objects.get(agency=agency)
    key.user.is_active = False
    key.user.save()

    response = Api(PRODUCTION, live_key).get("/services")

    assert response.status_code == 401
    assert response.json()["code"] == "revoked_key"


def test_abolished_agency_key_401(agency, live_key):
    agency.abolished_on = timezone.localdate()
    agency.save()

    response = Api(PRODUCTION, live_key).get("/services")

    assert response.status_code == 401


# The apikeys command.


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("apikeys", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_command_issue_prints_key_once(agency):
    out, err = run("issue", agency.code, "--environment", "test", "--label", "CI")

    secret = out.strip()
    key = ApiKey.objects.get()
    assert secret.startswith("gpk_test_")
    assert key.label == "CI"
    assert key.key_hash == hash_key(secret)
    assert key.prefix in err
    assert Api(SANDBOX, secret).get("/services").status_code == 200


def test_command_issue_sets_expiry(agency):
    run("issue", agency.code, "--environment", "production", "--days", "30")

    key = ApiKey.objects.get()
    assert key.expires_at - key.created_at == timedelta(days=30)


def test_command_list_hides_secret(agency):
    secret, _err = run("issue", agency.code, "--environment", "production")

    out, _err = run("list", agency.code)

    key = ApiKey.objects.get()
    assert key.prefix in out
    assert secret.strip() not in out
    assert secret.strip().rsplit("_", 1)[-1] not in out
    assert key.key_hash not in out


def test_command_revoke_by_prefix(agency):
    secret, _err = run("issue", agency.code, "--environment", "production")
    key = ApiKey.objects.get()

    out, _err = run("revoke", key.prefix)

    assert "Revoked" in out
    assert Api(PRODUCTION, secret.strip()).get("/services").status_code == 401


def test_command_rejects_bad_days(agency):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        run("issue", agency.code, "--environment", "test", "--days", "0")
    assert ApiKey.objects.count() == 0


def test_admin_shows_no_hash(agency, admin_client):
    issued = issue_key(agency, Environment.PRODUCTION, label="vendor")

    listing = admin_client.get("/admin/api/apikey/")
    detail = admin_client.get(f"/admin/api/apikey/{issued.key.pk}/change/")

    assert issued.key.prefix in listing.content.decode()
    for page in (listing, detail):
        assert issued.key.key_hash not in page.content.decode()
        assert issued.secret not in page.content.decode()
