"""The ``NinjaAPI`` instance: routers, problem handlers, OpenAPI 3.1 and its docs page."""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI, Swagger

from slotwise.accounts.api import router as members_router
from slotwise.accounts.me_api import router as me_router
from slotwise.api.problems import PROBLEM_CONTENT_TYPE, install_problem_handlers
from slotwise.audit.api import router as audit_router
from slotwise.availability.api import router as availability_router
from slotwise.bookings.api import router as bookings_router
from slotwise.bookings.staff_api import router as staff_bookings_router
from slotwise.calendars.api import router as calendars_router
from slotwise.catalog.api import router as catalog_staff_router
from slotwise.notifications.api import router as messages_router
from slotwise.organizations.api import router as api_keys_router
from slotwise.organizations.auth import install_access_handlers
from slotwise.payments.api import router as payments_router
from slotwise.payments.api import webhooks as payment_webhooks_router
from slotwise.payments.settings_api import router as payment_settings_router
from slotwise.waitlist.api import router as waitlist_router
from slotwise.waitlist.api import staff_router as staff_waitlist_router
from slotwise.webhooks.api import router as webhooks_router

__all__ = ["api"]


class SlotwiseAPI(NinjaAPI):
    """NinjaAPI whose OpenAPI document gives error responses their real media type."""

    def get_openapi_schema(self, **kwargs: Any) -> Any:
        schema = super().get_openapi_schema(**kwargs)
        for operations in schema.get("paths", {}).values():
            for operation in operations.values():
                for status, response in operation.get("responses", {}).items():
                    content = response.get("content", {})
                    if int(status) >= 400 and "application/json" in content:
                        response["content"] = {PROBLEM_CONTENT_TYPE: content["application/json"]}
        return schema


api = SlotwiseAPI(
    title="slotwise",
    version="1",
    description="Bookable slots and bookings. Errors are RFC 9457 problem details.",
    urls_namespace="api-v1",
    # The bundled Swagger UI, served from /static/ (no CDN); no validator
    # badge, which would fetch an image from swagger.io.
    docs=Swagger(settings={"validatorUrl": None}),
)
install_problem_handlers(api)
install_access_handlers(api)
api.add_router("/services", availability_router)
api.add_router("/bookings", bookings_router)
api.add_router("/staff", catalog_staff_router)
api.add_router("/staff/bookings", staff_bookings_router)
api.add_router("/staff/audit", audit_router)
api.add_router("/staff/members", members_router)
api.add_router("/me", me_router)
api.add_router("/staff", messages_router)
api.add_router("/staff/api-keys", api_keys_router)
api.add_router("/staff/webhooks", webhooks_router)
api.add_router("/staff", payments_router)
api.add_router("/staff", payment_settings_router)
api.add_router("/staff", calendars_router)
api.add_router("/waitlist", waitlist_router)
api.add_router("/staff", staff_waitlist_router)
api.add_router("/payments", payment_webhooks_router)
