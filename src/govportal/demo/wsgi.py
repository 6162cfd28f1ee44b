"""The back office and the API for the demo, with the admin's static files.

Production serves static files with the web server; the demo has none, so
Django's static files handler serves them.
"""

import os

from django.contrib.staticfiles.handlers import StaticFilesHandler
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govportal.settings")
application = StaticFilesHandler(get_wsgi_application())
