from django.apps import AppConfig


class PublishingConfig(AppConfig):
    name = "govportal.publishing"
    label = "publishing"
