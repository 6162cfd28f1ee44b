"""A self-contained documentation page generated from the OpenAPI document.

ninja's Swagger UI loads its scripts from a CDN unless ``ninja`` is in
INSTALLED_APPS, and a government site must not send its visitors' browsers
to a third party. This page lists the operations as plain HTML and links
the OpenAPI document for tools.
"""

from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from ninja.openapi.docs import DocsBase

if TYPE_CHECKING:
    from ninja import NinjaAPI

METHODS = ("get", "put", "post", "patch", "delete")


class EndpointList(DocsBase):
    """Render the operations of the schema, loading nothing from elsewhere."""

    def render_page(
        self, request: HttpRequest, api: "NinjaAPI", **kwargs: Any
    ) -> HttpResponse:
        schema = api.get_openapi_schema(path_params=kwargs)
        rows = []
        for path, operations in schema["paths"].items():
            for method in METHODS:
                if method in operations:
                    operation = operations[method]
                    summary = operation.get("summary", "")
                    description = operation.get("description", "")
                    rows.append((method.upper(), path, summary, description))
        items = format_html_join(
            "\n",
            "<tr><td><code>{}</code></td><td><code>{}</code></td>"
            "<td>{}</td><td>{}</td></tr>",
            rows,
        )
        page = format_html(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            "<title>{title} {version}</title>"
            "<style>body{{font-family:sans-serif;margin:2em}}"
            "td,th{{border:1px solid #999;padding:.3em;vertical-align:top}}"
            "table{{border-collapse:collapse}}</style></head><body>"
            "<h1>{title} {version}</h1><p>{description}</p>"
            '<p><a href="{openapi}">OpenAPI 3.1 document (JSON)</a></p>'
            "<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th>"
            "<th>Description</th></tr></thead><tbody>{items}</tbody></table>"
            "</body></html>",
            title=api.title,
            version=api.version,
            description=api.description,
            openapi=self.get_openapi_url(api, kwargs),
            items=items,
        )
        response = HttpResponse(page)
        # Enforces that the page loads no script and nothing from elsewhere.
        response["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'"
        )
        return response
