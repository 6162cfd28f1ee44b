"""Signals other apps use to follow what the public can see."""

from django.dispatch import Signal

# Sent after the commit of an approval or a withdrawal, with ``item`` and
# ``transition``. The public version of the item changed, so the public site
# must follow.
public_version_changed = Signal()
