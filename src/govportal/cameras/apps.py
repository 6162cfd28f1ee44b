from django.apps import AppConfig


class CamerasConfig(AppConfig):
    name = "govportal.cameras"
    label = "cameras"
