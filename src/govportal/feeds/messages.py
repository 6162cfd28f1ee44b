"""Plain-words explanations of fetch and parse problems, in Chinese and English.

The fetcher and the parser report a stable code with parameters. This module
is the one place that turns a code into a sentence for operators and agencies.
The source texts are Chinese; the English comes from the ``en`` catalogue.
"""

from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

MESSAGES: dict[str, Promise] = {
    "invalid_url": gettext_lazy("網址格式不正確：{detail}"),
    "scheme_not_allowed": gettext_lazy("只接受 http 或 https 開頭的網址。"),
    "port_not_allowed": gettext_lazy("只接受標準連接埠 80 與 443。"),
    "credentials_in_url": gettext_lazy("網址含有帳號或密碼，請移除後登錄公開網址。"),
    "blocked_target": gettext_lazy("網址指向內部或保留的網路位址，入口網不會擷取。"),
    "host_not_found": gettext_lazy("查無此主機名稱（DNS 查詢失敗）。"),
    "connect_failed": gettext_lazy("機關網站拒絕或中斷了連線。"),
    "timeout": gettext_lazy("機關網站未在時限內傳回內容（逾時）。"),
    "too_large": gettext_lazy("內容超過入口網接受的大小上限。"),
    "too_large_decompressed": gettext_lazy("解壓縮後的內容超過入口網接受的大小上限。"),
    "redirect_loop": gettext_lazy("網址的轉址形成迴圈。"),
    "too_many_redirects": gettext_lazy("網址轉址次數過多。"),
    "redirect_blocked": gettext_lazy("網址轉址到入口網不擷取的目的地。"),
    "tls_error": gettext_lazy("安全連線（TLS）失敗：{detail}"),
    "http_status": gettext_lazy("機關網站回應 HTTP 狀態碼 {status}。"),
    "robots_disallowed": gettext_lazy("網站的 robots.txt 不允許擷取此網址。"),
    "protocol_error": gettext_lazy("機關網站傳回的 HTTP 回應格式錯誤。"),
    "not_a_feed_html": gettext_lazy(
        "網址傳回的是網頁而不是 RSS（可能是登入頁、機器人檢查頁或網址錯誤）。"
    ),
    "not_a_feed": gettext_lazy("網址傳回的內容不是 RSS、Atom 或 JSON 格式。"),
    "truncated": gettext_lazy("RSS 內容不完整（文件被截斷）。"),
    "malformed": gettext_lazy("RSS 不是格式正確的 XML：{detail}"),
    "dtd_rejected": gettext_lazy("RSS 宣告了入口網不展開的 DTD 實體：{detail}"),
    "empty": gettext_lazy("RSS 沒有任何項目。"),
    "store_failed": gettext_lazy(
        "入口網儲存這次擷取的內容時發生錯誤，將於下次擷取重試。"
    ),
}


def describe(code: str, params: dict[str, Any] | None = None) -> str:
    """Return the sentence for a problem code in the active language."""
    if not code:
        return ""
    values = {"detail": "", "status": "?"}
    values.update(params or {})
    template = MESSAGES.get(code)
    if template is None:
        return _("未預期的問題：{code}").format(code=code)
    try:
        return str(template).format(**values)
    except (KeyError, IndexError):
        return str(template)


def describe_both(code: str, params: dict[str, Any] | None = None) -> dict[str, str]:
    """Return the sentence for a problem code in Chinese and in English."""
    texts = {}
    for language in ("zh-hant", "en"):
        with translation.override(language):
            texts[language] = describe(code, params)
    return texts
