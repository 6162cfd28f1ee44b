"""Start-up checks of the configuration, each naming the setting and the fix."""

import ipaddress
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register


@register()
def check_settings(app_configs: Any, **kwargs: Any) -> list[Error | Warning]:
    problems: list[Error | Warning] = []

    if not settings.DEBUG and settings.SECRET_KEY in {"", "unset"}:
        problems.append(
            Error(
                "SECRET_KEY is not set.",
                hint="Set the SECRET_KEY environment variable to a long random "
                "string, such as the output of python3 -c 'import secrets; "
                "print(secrets.token_urlsafe(50))'.",
                id="govportal.E001",
            )
        )

    for network in settings.FETCH_ALLOWED_NETWORKS:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError:
            problems.append(
                Error(
                    f"GOVPORTAL_FETCH_ALLOWED_NETWORKS contains {network!r}, "
                    "which is not a network.",
                    hint="Use a comma-separated list of CIDR networks, such as "
                    "127.0.0.1/32, or leave it empty in production.",
                    id="govportal.E002",
                )
            )

    ca_bundle = settings.FETCH_EXTRA_CA_BUNDLE
    if ca_bundle:
        from pathlib import Path

        if not Path(ca_bundle).is_file():
            problems.append(
                Error(
                    f"GOVPORTAL_FETCH_EXTRA_CA_BUNDLE points to {ca_bundle!r}, "
                    "which is not a file.",
                    hint="Give the path of a PEM file with the extra root "
                    "certificates (such as the government root CA).",
                    id="govportal.E003",
                )
            )

    if settings.FETCH_ALLOWED_NETWORKS and not settings.DEBUG:
        problems.append(
            Warning(
                "GOVPORTAL_FETCH_ALLOWED_NETWORKS lets the feed fetcher reach "
                f"{', '.join(settings.FETCH_ALLOWED_NETWORKS)}.",
                hint="Leave it empty in production; it exists for tests and "
                "the demo's loopback servers.",
                id="govportal.W001",
            )
        )
    return problems
