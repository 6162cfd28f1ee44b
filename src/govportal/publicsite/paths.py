"""URL paths of the public site and the checks that keep them safe file names.

Every page is a folder with an ``index.html`` so that URLs end in ``/``. Links are
root-relative and start with the path part of ``SITE_BASE_URL``, so the site can
be published under a sub-path such as ``https://example.gov.tw/portal/``.
"""

import re
from urllib.parse import quote, urlsplit

# DGPA agency codes are 10 letters and digits (e.g. 301000000A). OIDs are dotted
# digits (e.g. 2.16.886.101.20003.20063), at most 80 characters as in the model.
_AGENCY_CODE_RE = re.compile(r"[0-9A-Za-z]{1,10}")
_AGENCY_OID_RE = re.compile(r"[0-9]{1,20}(?:\.[0-9]{1,20}){1,30}")
_OID_MAX_LENGTH = 80


def is_safe_agency_key(key: str | None) -> bool:
    """Check that an agency code or OID can be used as one URL path segment.

    Only letters, digits and single dots between digits pass, so a key can never
    be empty, ``.``, ``..``, or contain a slash, a backslash or a control character.
    """
    if not key:
        return False
    if _AGENCY_CODE_RE.fullmatch(key):
        return True
    return len(key) <= _OID_MAX_LENGTH and bool(_AGENCY_OID_RE.fullmatch(key))


# The same rule as services.validation.SERVICE_ID_PATTERN: the first character is
# a letter or digit, so an id is never empty, "." or "..", and it has no slash.
_SERVICE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:\-]{0,99}")
# Life-event slugs, such as "birth-adoption".
_SLUG_RE = re.compile(r"[a-z0-9]{1,40}(?:-[a-z0-9]{1,40}){0,10}")
# Folder names under services/ that are lists, not agencies.
SERVICE_LIST_FOLDERS = frozenset({"agencies", "categories"})


def is_safe_service_id(service_id: str | None) -> bool:
    """Check that an agency's service id can be used as one URL path segment."""
    return bool(service_id) and bool(_SERVICE_ID_RE.fullmatch(service_id or ""))


def is_web_url(url: str | None) -> bool:
    """Check that a URL is an absolute http or https address with a host."""
    if not url or url != url.strip():
        return False
    if any(ord(character) < 0x21 or ord(character) == 0x7F for character in url):
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in {"http", "https"} and bool(parts.hostname)


def base_path_of(base_url: str) -> str:
    """Return the path part of SITE_BASE_URL without its trailing slash ("" for /)."""
    return urlsplit(base_url).path.rstrip("/")


class SitePaths:
    """Root-relative URLs and the matching file names inside a build folder."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.base_path = base_path_of(base_url)
        # Scheme and host, such as "https://www.example.gov.tw".
        self.origin = self.base_url[: len(self.base_url) - len(self.base_path)]

    def url(self, folder: str) -> str:
        """Return the link for a page folder such as ``news/page/2``."""
        if not folder:
            return f"{self.base_path}/"
        return f"{self.base_path}/{folder}/"

    def absolute_url(self, folder: str) -> str:
        """Return the full address of a page folder, for the sitemap and RSS."""
        return self.origin + self.url(folder)

    def service_url(self, folder: str) -> str:
        """Return the link for a service page folder, percent-encoding the id.

        Service ids may contain ":", which is valid in a path segment but is
        encoded so that no browser reads the link as a scheme.
        """
        return self.url(quote(folder, safe="/._-"))

    def asset(self, name: str) -> str:
        """Return the link for a file such as ``feeds/news.xml``."""
        return f"{self.base_path}/{name}"

    def absolute_asset(self, name: str) -> str:
        return self.origin + self.asset(name)

    @staticmethod
    def page_file(folder: str) -> str:
        """Return the HTML file of a page folder, relative to the build root."""
        return f"{folder}/index.html" if folder else "index.html"

    @staticmethod
    def news_folder(page_number: int) -> str:
        return "news" if page_number == 1 else f"news/page/{page_number}"

    @staticmethod
    def agency_folder(agency_key: str, page_number: int = 1) -> str:
        """Return the folder of an agency's news.

        Raises ValueError for a key that fails ``is_safe_agency_key``.
        """
        if not is_safe_agency_key(agency_key):
            raise ValueError(
                f"Agency key {agency_key!r} is not a valid agency code or OID, "
                "so it cannot be used in a URL path."
            )
        folder = f"news/agencies/{agency_key}"
        if page_number == 1:
            return folder
        return f"{folder}/page/{page_number}"

    @staticmethod
    def services_root(language: str) -> str:
        """Return the services folder of a language: ``services`` or ``en/services``."""
        return "services" if language == "zh-hant" else f"{language}/services"

    @classmethod
    def service_folder(cls, language: str, agency_key: str, service_id: str) -> str:
        """Return the folder of a service's detail page.

        Raises ValueError for an agency key or service id that is not a safe path
        segment, or an agency key that names a list folder.
        """
        if (
            not is_safe_agency_key(agency_key)
            or agency_key in SERVICE_LIST_FOLDERS
            or not is_safe_service_id(service_id)
        ):
            raise ValueError(
                f"Service {agency_key!r}/{service_id!r} has an agency key or id "
                "that cannot be used in a URL path."
            )
        return f"{cls.services_root(language)}/{agency_key}/{service_id}"

    @classmethod
    def service_list_folder(
        cls, language: str, kind: str, key: str, page_number: int = 1
    ) -> str:
        """Return the folder of a category list or agency list of services.

        ``kind`` is "categories" or "agencies". ``key`` is a life-event slug or a
        key that passed ``is_safe_agency_key``.
        """
        if kind == "categories":
            valid = bool(_SLUG_RE.fullmatch(key))
        else:
            valid = kind == "agencies" and is_safe_agency_key(key)
        if not valid:
            raise ValueError(f"Service list {kind!r}/{key!r} is not a valid list.")
        folder = f"{cls.services_root(language)}/{kind}/{key}"
        if page_number == 1:
            return folder
        return f"{folder}/page/{page_number}"
