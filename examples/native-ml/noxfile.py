"""native-ml's pipeline: every tier declared in pyproject.toml is a session (`nox -s unit`,
`inv unit`), made by tierci from [tool.tierci]."""

import tierci.nox

tierci.nox.register(globals())
