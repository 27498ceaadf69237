from tests.factories import make_org  # noqa: F401 (fixture)
