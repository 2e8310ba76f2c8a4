# tests/fixtures holds whole projects that the integration tests copy and run; their
# tests belong to them, not to this suite.
collect_ignore = ["fixtures"]
pytest_plugins = ["pytester"]
