"""Shared pytest fixtures."""

from __future__ import annotations

import pytest

from helpers import SHARED


@pytest.fixture
def shared_corpus():
    """The shared real-world corpus; tests that need it skip cleanly on a fresh clone without ../shared."""
    corpus = SHARED / "corpus"
    if not corpus.is_dir():
        pytest.skip("../shared/corpus is not present")
    return corpus
