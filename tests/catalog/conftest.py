from tests.factories import (  # noqa: F401 (fixtures)
    make_org,
    make_resource,
    make_schedule,
    make_service,
)
