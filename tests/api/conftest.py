from tests.factories import (  # noqa: F401 (fixtures)
    make_booking,
    make_busy,
    make_closure,
    make_org,
    make_override,
    make_resource,
    make_schedule,
    make_service,
)
