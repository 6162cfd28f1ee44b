from django.apps import AppConfig


class PublicsiteConfig(AppConfig):
    name = "govportal.publicsite"
    label = "publicsite"
