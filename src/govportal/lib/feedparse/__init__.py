"""A pure, fast feed parser for agency RSS, Atom and JSON feeds.

``parse_feed`` is the entry point. No Django, no network, no file access.
"""

from govportal.lib.feedparse.parser import parse_feed
from govportal.lib.feedparse.types import ParsedEntry, ParsedFeed

__all__ = ["ParsedEntry", "ParsedFeed", "parse_feed"]
