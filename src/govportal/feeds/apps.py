from django.apps import AppConfig


class FeedsConfig(AppConfig):
    name = "govportal.feeds"
    label = "feeds"
