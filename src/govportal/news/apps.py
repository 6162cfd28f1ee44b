from django.apps import AppConfig


class NewsConfig(AppConfig):
    name = "govportal.news"
    label = "news"
