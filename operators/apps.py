from django.apps import AppConfig


class OperatorsConfig(AppConfig):
    default = True
    name = "operators"
    verbose_name = "Platform operators' second factors"
