import logging

from django.apps import AppConfig

logger = logging.getLogger(__name__)


class CoreConfig(AppConfig):
    name = "govportal.core"
    label = "core"

    def ready(self) -> None:
        from govportal.core import checks  # noqa: F401  (registers the checks)

        self._compile_translations()

    def _compile_translations(self) -> None:
        # The .mo files are not in git. Every process compiles the catalogs
        # that are missing or older than their .po file before any text is
        # translated, so commands print English as well as the site does.
        from govportal.publicsite.translations import (
            TranslationCompileError,
            compile_translations,
        )

        try:
            compile_translations()
        except (OSError, TranslationCompileError) as exc:
            logger.warning("translations not compiled error=%s", exc)
