from tests.e2e.conftest import browser, running_server  # noqa: F401 (the fixtures, for this directory)
