from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "slotwise.catalog"
    default_auto_field = "django.db.models.BigAutoField"
