from django.apps import AppConfig


class EwsdashConfig(AppConfig):
    name = "ewsdash"
    verbose_name = "ewsdash"
