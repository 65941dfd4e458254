from collections.abc import Iterator

import pytest

from tests.support.harness import Harness, running_harness


@pytest.fixture
def harness(tmp_path) -> Iterator[Harness]:
    with running_harness(tmp_path) as running:
        yield running
