"""URLs of the integration API: production and the sandbox (test environment)."""

from django.urls import URLPattern, URLResolver, path

from govportal.api.api import production_api, sandbox_api

urlpatterns: list[URLPattern | URLResolver] = [
    path("api/v2/", production_api.urls),
    path("api/sandbox/v2/", sandbox_api.urls),
]
