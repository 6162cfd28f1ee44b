"""Settings for the test suite: the real settings with a scratch folder."""

import os
import tempfile

os.environ.setdefault("GOVPORTAL_VAR_DIR", tempfile.mkdtemp(prefix="govportal-test-"))
os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production")

from govportal.settings import *  # noqa: F403

HUEY["immediate"] = True  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests that publish call the site builder themselves.
PUBLISH_ON_APPROVAL = False
