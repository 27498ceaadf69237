"""Rate limits of the public API: per client address and per organization, reads and
writes apart, answered with a 429 problem and Retry-After; counted in a cache that
every server process shares (the database's, or Redis)."""

from __future__ import annotations

import json
import logging
import os
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

import pytest
import redis
import time_machine
from django.core.cache import caches
from django.db import connection, connections

from slotwise.api.ratelimits import client_address
from slotwise.config import CACHE_TABLE, DEFAULT_RATE_LIMITS, Rate
from tests.conftest import in_ci

pytestmark = pytest.mark.django_db

# 20 seconds into a minute: each window has 40 seconds left.
NOW = datetime(2026, 5, 1, 12, 0, 20, tzinfo=UTC)
PROBLEM = "application/problem+json"
REDIS_URL = "redis://127.0.0.1:6379/0"
ALICE, BOB = "198.51.100.7", "203.0.113.9"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def limits(settings):
    """Set some limits low; the others stay at their defaults."""

    def set_limits(**rates: Rate) -> None:
        settings.SLOTWISE_RATE_LIMITS = {
            **DEFAULT_RATE_LIMITS,
            **{name.replace("_", "-"): rate for name, rate in rates.items()},
        }

    return set_limits


@pytest.fixture
def org(make_org, make_resource):
    org = make_org()
    make_resource(org)
    return org


@pytest.fixture
def service(org, make_service):
    return make_service(org)


@pytest.fixture
def other_service(make_org, make_resource, make_service):
    other = make_org()
    make_resource(other)
    return make_service(other)


def get_slots(client, service, address=ALICE, **headers):
    query = urlencode({"start": "2026-06-01", "end": "2026-06-01", "tz": "Europe/London"})
    return client.get(
        f"/api/v1/services/{service.pk}/slots?{query}", REMOTE_ADDR=address, headers=headers
    )


def book(client, service, hour=10, address=ALICE, key=None):
    data = {
        "service_id": service.pk,
        "start": f"2026-06-01T{hour:02}:00:00+01:00",
        "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "Europe/London"},
    }
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(
        "/api/v1/bookings",
        json.dumps(data),
        content_type="application/json",
        REMOTE_ADDR=address,
        headers=headers,
    )


def assert_rate_limited(response, retry_after=40):
    assert response.status_code == 429
    assert response["Content-Type"] == PROBLEM
    assert response["Retry-After"] == str(retry_after)
    problem = response.json()
    assert problem["type"] == "urn:slotwise:problem:rate-limited"
    assert problem["title"] == "Too many requests"
    assert problem["status"] == 429
    assert f"Retry in {retry_after} second" in problem["detail"]
    return problem


# Per client


def test_over_the_client_limit_is_a_429_problem_saying_when_to_retry(client, service, limits):
    limits(client_read=Rate(3, 60))

    assert [get_slots(client, service).status_code for _ in range(3)] == [200] * 3
    problem = assert_rate_limited(get_slots(client, service))
    assert problem["detail"] == "Too many requests. Retry in 40 seconds."


def test_another_client_is_not_affected(client, service, limits):
    limits(client_read=Rate(2, 60))
    for _ in range(3):
        get_slots(client, service, address=ALICE)

    assert get_slots(client, service, address=ALICE).status_code == 429
    assert get_slots(client, service, address=BOB).status_code == 200


def test_the_window_resets(client, service, limits, frozen_clock):
    limits(client_read=Rate(2, 60))
    for _ in range(2):
        get_slots(client, service)
    assert_rate_limited(get_slots(client, service))

    frozen_clock.shift(39)
    assert_rate_limited(get_slots(client, service), retry_after=1)
    frozen_clock.shift(1)
    assert get_slots(client, service).status_code == 200


def test_an_ipv6_client_counts_per_64_network(client, service, limits):
    limits(client_read=Rate(2, 60))
    get_slots(client, service, address="2001:db8:1:2::1")
    get_slots(client, service, address="2001:db8:1:2:aaaa::9")

    assert get_slots(client, service, address="2001:db8:1:2::77").status_code == 429
    assert get_slots(client, service, address="2001:db8:1:3::1").status_code == 200


def test_reads_and_writes_count_apart(client, service, limits):
    limits(client_write=Rate(2, 60))
    assert [book(client, service, hour).status_code for hour in (9, 10)] == [201, 201]

    assert_rate_limited(book(client, service, 11))
    assert get_slots(client, service).status_code == 200
    assert book(client, service, 11, address=BOB).status_code == 201


def test_a_limited_booking_can_be_retried_with_the_same_idempotency_key(
    client, service, limits, frozen_clock
):
    limits(client_write=Rate(5, 60), org_write=Rate(1, 60))
    book(client, service, 9)
    assert_rate_limited(book(client, service, 10, key="retry-after-the-limit-0001"))

    frozen_clock.shift(40)
    retried = book(client, service, 10, key="retry-after-the-limit-0001")

    assert retried.status_code == 201
    assert "Idempotent-Replayed" not in retried


def test_manage_routes_read_and_write_against_their_own_limits(client, service, limits):
    limits(client_read=Rate(2, 60), client_write=Rate(3, 60))
    token = book(client, service).json()["manage_token"]
    manage = f"/api/v1/bookings/manage/{token}"

    def change(action):
        return client.post(
            f"{manage}/{action}", {}, content_type="application/json", REMOTE_ADDR=ALICE
        )

    reads = [client.get(manage, REMOTE_ADDR=ALICE).status_code for _ in range(3)]
    # With the booking, three writes: the confirm (409: it was no hold) and the cancel.
    writes = [change("confirm").status_code, change("cancel").status_code]

    assert reads == [200, 200, 429]
    assert writes == [409, 200]
    assert_rate_limited(change("cancel"))


# Per organization


def test_the_organization_cap_applies_across_clients(client, service, limits):
    limits(org_read=Rate(3, 60))
    for n in range(3):
        assert get_slots(client, service, address=f"192.0.2.{n + 1}").status_code == 200

    problem = assert_rate_limited(get_slots(client, service, address="192.0.2.99"))
    assert problem["detail"] == (
        "Too many requests for this organization's services right now. Retry in 40 seconds."
    )


def test_another_organization_is_not_affected(client, service, other_service, limits):
    limits(org_read=Rate(2, 60), org_write=Rate(1, 60))
    for n in range(3):
        get_slots(client, service, address=f"192.0.2.{n + 1}")
    book(client, service, 9)

    assert get_slots(client, service, address=BOB).status_code == 429
    assert get_slots(client, other_service, address=BOB).status_code == 200
    assert book(client, service, 10, address=BOB).status_code == 429
    assert book(client, other_service, 10, address=BOB).status_code == 201


def test_the_organization_write_cap_covers_managing_by_token(client, service, limits):
    limits(org_write=Rate(2, 60))
    token = book(client, service).json()["manage_token"]
    manage = f"/api/v1/bookings/manage/{token}"
    client.post(f"{manage}/confirm", {}, content_type="application/json", REMOTE_ADDR=BOB)

    cancel = client.post(f"{manage}/cancel", {}, content_type="application/json", REMOTE_ADDR=BOB)

    assert_rate_limited(cancel)
    assert cancel.json()["detail"].startswith("Too many bookings and changes for this organization")


def test_an_unknown_service_counts_only_against_the_client(client, limits):
    limits(client_read=Rate(2, 60))
    query = urlencode({"start": "2026-06-01", "end": "2026-06-01", "tz": "UTC"})

    statuses = [client.get(f"/api/v1/services/999999/slots?{query}").status_code for _ in range(3)]

    assert statuses == [404, 404, 429]


def test_off_means_no_limits(client, service, settings):
    settings.SLOTWISE_RATE_LIMITS = None
    settings.CACHES = {"default": {"BACKEND": "tests.api.test_rate_limits.NoCache"}}

    assert get_slots(client, service).status_code == 200


class NoCache:
    """A cache that must not be touched."""

    def __init__(self, *args, **kwargs):
        raise AssertionError("the cache was used with rate limits off")


# The client's address


@pytest.mark.parametrize(
    ("trusted", "forwarded", "address"),
    [
        (0, None, "10.0.0.1"),
        (0, "203.0.113.7", "10.0.0.1"),  # anyone can send the header
        (1, None, "10.0.0.1"),
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the client wrote 6.6.6.6
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "203.0.113.7"),
    ],
)
def test_x_forwarded_for_counts_only_behind_trusted_proxies(
    rf, settings, trusted, forwarded, address
):
    settings.SLOTWISE_TRUSTED_PROXIES = trusted
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}

    assert client_address(rf.get("/", REMOTE_ADDR="10.0.0.1", headers=headers)) == address


def test_forwarded_addresses_cannot_dodge_the_limit_without_trusted_proxies(
    client, service, limits
):
    limits(client_read=Rate(2, 60))
    for n in range(2):
        get_slots(client, service, **{"X-Forwarded-For": f"192.0.2.{n}"})

    assert get_slots(client, service, **{"X-Forwarded-For": "192.0.2.50"}).status_code == 429


def test_behind_one_trusted_proxy_the_forwarded_client_is_limited(
    client, service, limits, settings
):
    limits(client_read=Rate(2, 60))
    settings.SLOTWISE_TRUSTED_PROXIES = 1
    proxy = "10.0.0.1"
    for n in range(2):
        # Whatever the client writes in front, the proxy appends the address it saw.
        get_slots(client, service, proxy, **{"X-Forwarded-For": f"192.0.2.{n}, {ALICE}"})

    assert get_slots(client, service, proxy, **{"X-Forwarded-For": ALICE}).status_code == 429
    assert get_slots(client, service, proxy, **{"X-Forwarded-For": BOB}).status_code == 200


# The OpenAPI document


def test_openapi_lists_429_on_the_public_operations(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    limited = {
        f"{method.upper()} {path}": "429" in operation["responses"]
        for path, operations in paths.items()
        for method, operation in operations.items()
        if path.startswith(("/api/v1/services/", "/api/v1/bookings"))
    }

    assert "GET /api/v1/services/{service_id}/slots" in limited
    assert "POST /api/v1/bookings/manage/{token}/reschedule" in limited
    assert len(limited) == 11
    assert all(limited.values()), limited
    problem = paths["/api/v1/bookings"]["post"]["responses"]["429"]["content"]
    assert list(problem) == [PROBLEM]


# The caches the counts live in


def test_the_migrations_create_the_database_cache_table():
    assert CACHE_TABLE in connection.introspection.table_names()


@pytest.fixture
def database_cache(settings):
    settings.CACHES = {
        "default": {"BACKEND": "slotwise.cache.DatabaseCache", "LOCATION": CACHE_TABLE}
    }
    yield caches["default"]
    caches["default"].clear()


def test_limits_count_in_the_database_cache(client, service, limits, database_cache):
    limits(client_read=Rate(2, 60))
    for _ in range(2):
        get_slots(client, service)

    assert_rate_limited(get_slots(client, service))
    assert database_cache.get(f"ratelimit:client-read:{ALICE}:{int(NOW.timestamp()) // 60}") == 3


@pytest.fixture
def redis_cache(settings):
    """The default cache on the Redis at 127.0.0.1:6379, under a prefix of its own,
    removed afterwards."""
    server = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        server.ping()
    except redis.RedisError as error:
        if in_ci():
            pytest.fail(f"Redis is unreachable at {REDIS_URL}, and CI needs it: {error}")
        pytest.skip(f"Redis is unreachable at {REDIS_URL} (CI=true makes this an error): {error}")
    prefix = f"slotwise-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    yield server, prefix
    for key in server.scan_iter(match=f"{prefix}:*"):
        server.delete(key)
    server.close()


def test_limits_count_in_redis_shared_by_every_cache_client(client, service, limits, redis_cache):
    server, prefix = redis_cache
    limits(client_read=Rate(3, 60))
    for _ in range(3):
        get_slots(client, service)
        # A new cache client each time, as another server process would have.
        del caches["default"]

    assert_rate_limited(get_slots(client, service))
    keys = [key.decode() for key in server.scan_iter(match=f"{prefix}:*ratelimit:client-read:*")]
    assert len(keys) == 1
    assert int(server.get(keys[0])) == 4
    assert 0 < server.ttl(keys[0]) <= 45


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("backend", ["database", "redis"])
def test_concurrent_increments_are_never_lost(request, backend):
    """Eight threads, each with its own cache client and connection, count to 200."""
    cache = request.getfixturevalue(f"{backend}_cache")
    if backend == "redis":
        cache = caches["default"]
    key = f"race-{uuid.uuid4().hex}"
    cache.add(key, 0, 60)
    start = threading.Barrier(8)

    def count() -> None:
        try:
            start.wait()
            mine = caches["default"]  # this thread's own cache client
            for _ in range(25):
                mine.incr(key)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=count) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert cache.get(key) == 200


def test_a_failing_cache_lets_requests_through_with_a_warning(client, service, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens there
        }
    }

    with caplog.at_level(logging.WARNING, logger="slotwise.api.ratelimits"):
        response = get_slots(client, service)

    assert response.status_code == 200
    assert "not counted, the cache failed" in caplog.text


def test_the_default_limits_are_documented():
    assert DEFAULT_RATE_LIMITS == {
        "client-read": Rate(120, 60),
        "client-write": Rate(20, 60),
        "org-read": Rate(3000, 60),
        "org-write": Rate(300, 60),
    }
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for name, rate in DEFAULT_RATE_LIMITS.items():
        assert f"`{name}` | {rate.requests}/min" in readme
