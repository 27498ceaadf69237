"""Browser tests: slotwise served by pytest-django's live server, driven by Playwright
in Debian's headless Chromium (``/usr/bin/chromium``; ``scripts/ensure-chromium``
installs it, ``make test`` runs that first).

One browser runs for all the tests here; each test gets a fresh context (its own
cookies, zone and language) from :func:`browser_context`, whose zone and locale
a test sets with ``@pytest.mark.browser_context(timezone_id=..., locale=...)``
or by calling :func:`new_context` itself.

Without Chromium the browser tests are skipped with one message; under
``CI=true`` that is a failure instead.

Every test here is marked ``browser``: ``pytest -m "not browser"`` leaves them out.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.conftest import in_ci

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Playwright

REPO_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO_DIR / "var" / "screenshots"
# The provider's zone in these tests, and a customer's far from it.
PROVIDER_ZONE = "Europe/London"
CUSTOMER_ZONE = "Asia/Tokyo"
# Playwright's waits, in milliseconds: pages are served from this machine.
TIMEOUT_MS = 10_000
# What fails the accessibility scan.
BLOCKING_IMPACTS = ("serious", "critical")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    browser_items = [item for item in items if Path(str(item.fspath)).is_relative_to(here)]
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    problem = chromium_problem() if browser_items else None
    if problem is None:
        return
    if in_ci():
        pytest.exit(f"CI=true needs the browser tests: {problem}", returncode=3)
    reason = f"no browser: {problem}"
    for item in browser_items:
        item.add_marker(pytest.mark.skip(reason=reason))
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(
            f"Skipping the browser tests (CI=true makes this an error): {problem}", yellow=True
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser_context(**options): Playwright context options for this test"
    )


def chromium_problem() -> str | None:
    """Why Chromium cannot be used here, or None."""
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (scripts/ensure-chromium installs Debian's chromium)"
    return None


# Package-scoped, not session-scoped: while Playwright runs, this thread has an
# event loop, so the browser stops when the last test here is done and the
# tests after these run as without it.
@pytest.fixture(scope="package")
def playwright() -> Iterator[Playwright]:
    problem = chromium_problem()
    if problem:
        if in_ci():
            pytest.fail(f"CI=true needs the browser tests: {problem}", pytrace=False)
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop in this thread; Django's ORM,
    # called by the tests between browser steps, would otherwise refuse to run
    # beside it. The ORM is still used from one thread at a time. Unset again
    # when the browser stops, so no later test's subprocess inherits it.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    manager = sync_playwright()
    instance = manager.start()
    try:
        yield instance
    finally:
        manager.__exit__(None, None, None)
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless, for all the browser tests (never Playwright's download)."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        # Root in a container has no user namespaces for Chromium's sandbox.
        args=["--no-sandbox", "--disable-dev-shm-usage"],
    )
    yield browser
    browser.close()


@pytest.fixture
def new_context(browser: Browser, live_server) -> Iterator[Callable[..., BrowserContext]]:
    """Open a browser context on the live server: ``new_context(timezone_id=..., locale=...)``.

    Defaults: the provider's zone, British English, a 1280x900 window.
    """
    opened: list[BrowserContext] = []

    def new(**options: Any) -> BrowserContext:
        options = {
            "base_url": live_server.url,
            "timezone_id": PROVIDER_ZONE,
            "locale": "en-GB",
            "viewport": {"width": 1280, "height": 900},
            **options,
        }
        context = browser.new_context(**options)
        context.set_default_timeout(TIMEOUT_MS)
        context.live_server_url = live_server.url  # type: ignore[attr-defined]
        opened.append(context)
        return context

    yield new
    for context in opened:
        context.close()


@pytest.fixture
def browser_context(request, new_context) -> BrowserContext:
    """A context with the options of the test's ``browser_context`` mark."""
    marker = request.node.get_closest_marker("browser_context")
    return new_context(**(marker.kwargs if marker else {}))


@pytest.fixture
def page(browser_context: BrowserContext) -> Page:
    """A tab that fails the test on any JavaScript error or Content-Security-Policy report."""
    page = browser_context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"JavaScript error: {error}"))

    def console(message) -> None:
        # Failed loads are reported by response() with their address.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            problems.append(f"console error on {page.url}: {message.text}")

    def response(response) -> None:
        # A page's own answer may be a 4xx on purpose; what it loads may not.
        # Browsers ask for /favicon.ico by themselves.
        request = response.request
        if (
            response.status >= 400
            and request.resource_type != "document"
            and not request.url.endswith("/favicon.ico")
        ):
            problems.append(f"{request.resource_type} {request.url} answered {response.status}")

    page.on("console", console)
    page.on("response", response)
    page.problems = problems  # type: ignore[attr-defined]
    return page


@pytest.fixture
def no_page_errors(page: Page) -> Iterator[None]:
    """Fail the test if the page logged a JavaScript or CSP error."""
    yield
    problems = page.problems  # type: ignore[attr-defined]
    assert not problems, "\n".join(problems)


def sign_in(context: BrowserContext, user, *, organization_slug: str | None = None) -> None:
    """Sign ``user`` in by giving the browser a Django session, as after password + TOTP.

    Django's ``force_login`` makes the session (with what the sign-in signal adds,
    such as the session timeouts' clock); the browser gets its cookie.
    ``organization_slug`` picks the dashboard's organization for a member of several.
    """
    from django.conf import settings
    from django.test import Client

    from slotwise.dashboard.access import SESSION_KEY as ORGANIZATION_KEY

    client = Client()
    client.force_login(user)
    if organization_slug:
        session = client.session
        session[ORGANIZATION_KEY] = organization_slug
        session.save()
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": context.live_server_url,  # type: ignore[attr-defined]
                "httpOnly": True,
                "sameSite": "Lax",
            }
        ]
    )


@pytest.fixture
def signed_in(browser_context: BrowserContext) -> Callable[..., None]:
    """``signed_in(user)`` signs ``user`` in in this test's browser context."""

    def sign(user, **kwargs: Any) -> None:
        sign_in(browser_context, user, **kwargs)

    return sign


def screenshot(page: Page, name: str) -> Path:
    """Save the whole page to ``var/screenshots/<name>.png`` (gitignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [v for v in results.response["violations"] if v.get("impact") in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]], url: str) -> str:
    lines = [f"{len(violations)} serious or critical accessibility problem(s) on {url}:"]
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({violation.get('helpUrl', '')})"
        )
        for node in violation["nodes"][:5]:
            target = " ".join(str(part) for part in node.get("target", []))
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    at {target}: {summary}")
            lines.append(f"      {node.get('html', '')[:200]}")
        if len(violation["nodes"]) > 5:
            lines.append(f"    ... and {len(violation['nodes']) - 5} more")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail, listing each one readably, on any serious or critical axe-core violation."""
    violations = axe_violations(page)
    assert not violations, describe_violations(violations, page.url)
