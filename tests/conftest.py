from pathlib import Path

# tests/fixtures holds whole projects that the integration tests copy and run; their
# tests belong to them, not to this suite.
collect_ignore = ["fixtures"]
pytest_plugins = ["pytester"]

FIXTURES = Path(__file__).parent / "fixtures"
#: Real JUnit XML of many tools, with where each file came from (SOURCES.md).
JUNIT_CORPUS = FIXTURES / "junit-corpus"
