"""The front page in a real browser: it renders, runs no failing script, and passes axe."""

from tests.e2e.conftest import assert_accessible, screenshot


def test_home_page(page, no_page_errors):
    response = page.goto("/")
    assert response.status == 200
    assert page.locator("h1").count() == 1
    screenshot(page, "home")
    assert_accessible(page)
