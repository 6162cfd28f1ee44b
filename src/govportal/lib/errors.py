"""Problems with an outside source, as codes with parameters.

A code is stable and machine-readable; ``govportal.feeds.messages`` turns it
into plain words in Chinese and English for operators and agencies.
"""

from typing import Any


class SourceError(Exception):
    """A fetch or parse failed for a reason the source is responsible for."""

    def __init__(self, code: str, detail: str = "", **params: Any) -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.params = params
