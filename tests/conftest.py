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


@pytest.fixture(scope="session", autouse=True)
def no_network():
    """Every test runs with Python's sockets blocked (ecrlint never touches the network).

    Attempts are recorded even when the code under test swallows the error; any that a guard-proof
    test did not make on purpose fail the session here. The kernel-level layer for subprocesses and
    native code (Helm's Go library) is ``conftest_network.seal``; see tests/test_hardening_network.py.
    """
    from conftest_network import GUARD, seal_session

    seal_session()  # kernel-level too, when ECRLINT_TEST_SEAL=1 (see conftest_network)
    GUARD.install()
    try:
        yield GUARD
    finally:
        GUARD.uninstall()
    if GUARD.attempts:
        pytest.fail(f"network access attempted during the test session: {GUARD.attempts[:5]}", pytrace=False)


def _hypothesis_profiles() -> None:
    """Property tests: quick in the normal run; ``--hypothesis-profile fuzz`` (make fuzz) for the long one.

    No deadlines: a slow example is not a failure here (timing belongs to benchmarks/).
    """
    from hypothesis import settings

    settings.register_profile("default", deadline=None, max_examples=100)
    settings.register_profile("fuzz", deadline=None, max_examples=10_000, print_blob=True)
    settings.load_profile("default")


_hypothesis_profiles()
