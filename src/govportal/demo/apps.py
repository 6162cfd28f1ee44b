from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "govportal.demo"
    label = "demo"
