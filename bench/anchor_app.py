"""The anchor of target T6: a bare Django project with two views.

This module is at once the settings, the URLconf and the WSGI entry point,
so gunicorn serves it as ``bench.anchor_app:application``:

- ``/stored`` returns the same stored bytes on every request, and
- ``/rendered`` renders a small template per request.

``BENCH_ANCHOR_BODY`` names the file whose bytes ``/stored`` returns. The
benchmark writes a real service response of our API there, so both servers
send bodies of the same size.
"""

import os
from pathlib import Path

from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.template import engines
from django.urls import path

DEBUG = False
SECRET_KEY = "benchmark-anchor-only"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS: list[str] = []
MIDDLEWARE: list[str] = []
ROOT_URLCONF = __name__
USE_TZ = True
TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": []}]

TEMPLATE = """<!doctype html>
<html lang="zh-Hant">
<head><meta charset="utf-8"><title>{{ service.name_zh }}</title></head>
<body>
<h1>{{ service.name_zh }} ({{ service.name_en }})</h1>
<p>{{ service.content_zh }}</p>
<p>{{ service.content_en }}</p>
<ul>{% for method in service.methods %}<li>{{ method }}</li>{% endfor %}</ul>
<p>{{ service.contact_phone }}</p>
<p>{{ request_number }}</p>
</body>
</html>
"""
SERVICE = {
    "name_zh": "護照申請",
    "name_en": "Passport application",
    "content_zh": "申請普通護照，需本人親自到外交部領事事務局或各辦事處辦理。",
    "content_en": "Apply for an ordinary passport in person.",
    "methods": ["counter", "mail", "online"],
    "contact_phone": "(02)2343-2888",
}


def _stored_body() -> bytes:
    body_file = os.environ.get("BENCH_ANCHOR_BODY")
    if not body_file:
        return b'{"stored": true}'
    return Path(body_file).read_bytes()


def stored(request: HttpRequest) -> HttpResponse:
    return HttpResponse(STORED_BODY, content_type="application/json")


def rendered(request: HttpRequest) -> HttpResponse:
    # The template compiles once per process, as with Django's cached loader,
    # so each request pays for the render only.
    context = {"service": SERVICE, "request_number": id(request)}
    return HttpResponse(COMPILED.render(context))


urlpatterns = [
    path("stored", stored),
    path("rendered", rendered),
]

os.environ["DJANGO_SETTINGS_MODULE"] = __name__
STORED_BODY = _stored_body()
application = get_wsgi_application()
COMPILED = engines["django"].from_string(TEMPLATE)
