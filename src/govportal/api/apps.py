from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "govportal.api"
    label = "api"
