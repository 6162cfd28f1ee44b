from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "govportal.services"
    label = "services"
