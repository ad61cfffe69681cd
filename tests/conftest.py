pytest_plugins = ["tests.fixtures.service", "tests.fixtures.s3", "tests.fixtures.artifacts"]
