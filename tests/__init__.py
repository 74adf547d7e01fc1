"""The test suite mirrors the packages (tests/components/<floor>/..., tests/pipeline/, tests/serving/); end-to-end
pipeline runs are in tests/e2e/. Shared fixtures live here, never in product code."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the repository
