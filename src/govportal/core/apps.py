from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "govportal.core"
    label = "core"

    def ready(self) -> None:
        from govportal.core import checks  # noqa: F401  (registers the checks)
