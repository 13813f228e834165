"""Fixtures for health tests: the API clients of tests/api."""

from tests.api.conftest import a_api, b_api, department, dept_api  # noqa: F401
from tests.reports.conftest import rworld  # noqa: F401
