from django.apps import AppConfig


class AgenciesConfig(AppConfig):
    name = "govportal.agencies"
    label = "agencies"
