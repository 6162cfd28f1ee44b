"""Read JSON Feed documents and the JSON news exports that agencies publish.

A JSON Feed (https://jsonfeed.org/version/1.1) is an object with ``version``
and ``items``. An agency export is an array of news objects, or an object that
wraps one, for example 總統府's ``[{"Title", "URL", "PublishDate",
"Description"}]`` or ``[{"標題", "連結", "發布日期", "內容"}]``. Keys are matched by
meaning, case-insensitively, ignoring spaces, underscores and hyphens.
"""

import json
from typing import Any

from govportal.lib.errors import SourceError
from govportal.lib.feedparse.entries import MAX_CATEGORIES, FeedContext, RawEntry
from govportal.lib.textclean import clean_text
from govportal.lib.urlnorm import clean_link

# Maximum depth of wrapper objects searched for the item list, as in
# {"result": {"records": [...]}}.
_MAX_WRAPPER_DEPTH = 3

# Key aliases in order of preference, already normalized (see _normalize_key).
TITLE_KEYS = (
    "title",
    "標題",
    "新聞標題",
    "公告標題",
    "消息標題",
    "主旨",
    "主題",
    "subject",
    "headline",
    "name",
    "名稱",
)
LINK_KEYS = (
    "url",
    "link",
    "連結",
    "網址",
    "連結網址",
    "新聞連結",
    "原文連結",
    "網頁連結",
    "相關連結",
    "href",
    "weburl",
    "detailurl",
    "permalink",
    "externalurl",
)
DATE_KEYS = (
    "publishdate",
    "pubdate",
    "datepublished",
    "published",
    "publishedat",
    "publishtime",
    "發布日期",
    "發佈日期",
    "發布時間",
    "發佈時間",
    "日期時間",
    "公告日期",
    "新聞日期",
    "上稿日期",
    "刊登日期",
    "日期",
    "時間",
    "date",
    "datetime",
    "time",
    "postdate",
    "posttime",
    "createdate",
    "createtime",
    "created",
    "createdat",
    "datemodified",
    "updatedate",
    "updatetime",
    "更新日期",
    "更新時間",
    "modified",
    "updated",
)
BODY_KEYS = (
    "contenthtml",
    "description",
    "內容",
    "內文",
    "新聞內容",
    "公告內容",
    "content",
    "body",
    "summary",
    "摘要",
    "簡介",
    "說明",
    "text",
    "contenttext",
)
CATEGORY_KEYS = (
    "分類",
    "類別",
    "類型",
    "category",
    "categories",
    "tags",
    "tag",
    "標籤",
)
AUTHOR_KEYS = (
    "發布單位",
    "發佈單位",
    "發布機關",
    "發佈機關",
    "單位",
    "機關",
    "來源",
    "author",
    "authors",
    "publisher",
    "unit",
    "dept",
    "deptname",
    "department",
    "source",
    "作者",
)
GUID_KEYS = (
    "id",
    "guid",
    "newsid",
    "編號",
    "序號",
    "識別碼",
    "sn",
    "serno",
    "serialno",
    "uuid",
)
_PLAIN_TEXT_BODY_KEYS = frozenset({"contenttext", "summary"})
# Object keys that wrap the item list, tried before any other list of objects.
_WRAPPER_KEYS = (
    "items",
    "data",
    "news",
    "records",
    "result",
    "results",
    "list",
    "資料",
)


def parse_json_feed(
    text: str, context: FeedContext, scan_limit: int
) -> tuple[str, str | None, list[RawEntry], bool]:
    """Parse decoded JSON text. Returns (title, link, raw entries, more).

    Raises SourceError "malformed" for invalid JSON and "not_a_feed" for JSON
    that contains no news items.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise SourceError(
            "malformed", f"The JSON is not valid: {error.msg}.", line=error.lineno
        ) from None
    except RecursionError:
        raise SourceError("malformed", "The JSON is nested too deeply.") from None

    if _is_json_feed(document):
        return _read_json_feed(document, context, scan_limit)
    items = _find_items(document, _MAX_WRAPPER_DEPTH)
    if items is None:
        raise SourceError("not_a_feed", "The JSON contains no list of news items.")
    entries = [
        _read_export_item(item) for item in items[:scan_limit] if isinstance(item, dict)
    ]
    return "", None, entries, len(items) > scan_limit


def _is_json_feed(document: Any) -> bool:
    if not isinstance(document, dict):
        return False
    version = document.get("version")
    return (
        isinstance(version, str)
        and "jsonfeed.org" in version
        and isinstance(document.get("items"), list)
    )


def _read_json_feed(
    document: dict[str, Any], context: FeedContext, scan_limit: int
) -> tuple[str, str | None, list[RawEntry], bool]:
    title = clean_text(_string(document.get("title")), 500)
    link = clean_link(_string(document.get("home_page_url")), context.feed_url)
    context.channel_link = link
    items = document["items"]
    entries = []
    for item in items[:scan_limit]:
        if not isinstance(item, dict):
            continue
        raw = RawEntry(title=_string(item.get("title")))
        raw.links = [_string(item.get("url")), _string(item.get("external_url"))]
        raw.guid = _string(item.get("id")) or None
        if item.get("content_html"):
            raw.summary = _string(item.get("content_html"))
        else:
            raw.summary = _string(item.get("content_text") or item.get("summary"))
            raw.summary_is_html = False
        raw.dates = [
            _string(item.get(key))
            for key in ("date_published", "date_modified")
            if item.get(key)
        ]
        raw.authors = _names(item.get("authors")) + _names(item.get("author"))
        raw.categories = _strings(item.get("tags"))
        entries.append(raw)
    return title, link, entries, len(items) > scan_limit


def _find_items(document: Any, depth: int) -> list[Any] | None:
    """Return the first list of news objects in ``document``, looking into wrappers."""
    if isinstance(document, list):
        return document if _looks_like_items(document) else None
    if not isinstance(document, dict) or depth == 0:
        return None
    by_key = {_normalize_key(k): v for k, v in document.items()}
    for key in _WRAPPER_KEYS:
        if key in by_key:
            found = _find_items(by_key[key], depth - 1)
            if found is not None:
                return found
    for value in document.values():
        found = _find_items(value, depth - 1)
        if found is not None:
            return found
    return None


def _looks_like_items(values: list[Any]) -> bool:
    for value in values[:5]:
        if isinstance(value, dict) and _lookup(_normalized(value), TITLE_KEYS):
            return True
    return False


def _read_export_item(item: dict[str, Any]) -> RawEntry:
    fields = _normalized(item)
    raw = RawEntry(title=_string(_lookup(fields, TITLE_KEYS)))
    raw.links = [_string(_lookup(fields, LINK_KEYS))]
    guid = _lookup(fields, GUID_KEYS)
    raw.guid = _string(guid) or None
    body_key = next((key for key in BODY_KEYS if fields.get(key)), None)
    if body_key is not None:
        raw.summary = _string(fields[body_key])
        raw.summary_is_html = body_key not in _PLAIN_TEXT_BODY_KEYS
    raw.dates = [_date_string(fields[key]) for key in DATE_KEYS if fields.get(key)]
    author = _lookup(fields, AUTHOR_KEYS)
    raw.authors = _names(author) if author is not None else []
    raw.categories = _strings(_lookup(fields, CATEGORY_KEYS))
    return raw


def _normalize_key(key: str) -> str:
    return "".join(c for c in key.lower() if c not in " _-")


def _normalized(item: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    for key, value in item.items():
        fields.setdefault(_normalize_key(str(key)), value)
    return fields


def _lookup(fields: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = fields.get(key)
        if value not in (None, "", [], {}):
            return value
    return None


def _string(value: Any) -> str:
    if value is None or isinstance(value, (dict, list)):
        return ""
    if isinstance(value, bool):
        return ""
    return str(value)


def _date_string(value: Any) -> str:
    """Return a date value as text, turning epoch numbers into an ASP.NET date."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int | float):
        # Seconds or milliseconds since 1970: 10^11 seconds is the year 5138.
        millis = int(value * 1000) if abs(value) < 10**11 else int(value)
        return f"/Date({millis})/"
    return _string(value)


def _names(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [_string(value.get("name"))]
    if isinstance(value, list):
        return [name for item in value[:MAX_CATEGORIES] for name in _names(item)]
    text = _string(value)
    return [text] if text else []


def _strings(value: Any) -> list[str]:
    if isinstance(value, list):
        return [_string(v) for v in value[: 2 * MAX_CATEGORIES] if _string(v)]
    text = _string(value)
    return [text] if text else []
