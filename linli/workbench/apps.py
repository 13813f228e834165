from django.apps import AppConfig


class WorkbenchConfig(AppConfig):
    name = "linli.workbench"
    label = "workbench"
