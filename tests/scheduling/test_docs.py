"""The examples in the scheduling core's docstrings stay true."""

import doctest
import importlib

import pytest

MODULES = [
    "intervals",
    "zones",
    "rules",
    "inputs",
    "output",
    "slots",
    "fit",
    "recurrence",
    "refunds",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"slotwise.scheduling.{name}")
    result = doctest.testmod(
        module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert result.failed == 0
    assert result.attempted > 0
