"""Production settings: what holds when no environment variable is set."""

import json
import os
import subprocess
import sys


def production_setting(*names: str) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GOVPORTAL_", "DJANGO_", "DATABASE_URL", "HUEY_"))
    }
    env["GOVPORTAL_VAR_DIR"] = os.environ["GOVPORTAL_VAR_DIR"]
    code = (
        "import json, govportal.settings as s; "
        "print(json.dumps({n: str(getattr(s, n)) for n in NAMES}))"
    ).replace("NAMES", repr(list(names)))
    output = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(output)


def test_fetch_guard_has_no_allowed_networks_by_default():
    values = production_setting("FETCH_ALLOWED_NETWORKS")
    assert values["FETCH_ALLOWED_NETWORKS"] == "[]"


def test_sqlite_is_the_default_database():
    values = production_setting("DATABASES")
    assert "sqlite3" in values["DATABASES"]


def test_missing_secret_key_fails_the_system_check():
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"SECRET_KEY", "DJANGO_SETTINGS_MODULE", "GOVPORTAL_DEV_SECRET"}
    }
    result = subprocess.run(
        [sys.executable, "-m", "govportal", "check", "--deploy"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "govportal.E001" in result.stderr
    assert "SECRET_KEY" in result.stderr
