"""The dev server's own tests: the launcher fixtures and the marker check of the project's test suite.

`pytest` collects this folder beside `tests/` (`testpaths` in pyproject.toml); `pytest devserver/tests`
runs it alone. The plugins are registered once, whichever conftest names them first.
"""

pytest_plugins = ["tests.fixtures_devserver", "tests.marker_guard"]
