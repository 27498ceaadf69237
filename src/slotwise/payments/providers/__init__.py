"""The payment providers an organization can choose, by name (see :mod:`.base`)."""

from __future__ import annotations

from slotwise.payments.providers.base import PaymentProvider

__all__ = ["get", "load_builtin", "names", "register"]

_PROVIDERS: dict[str, type[PaymentProvider]] = {}


def register[P: type[PaymentProvider]](cls: P) -> P:
    """Make ``cls`` choosable by its ``name`` (usable as a class decorator)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name.")
    _PROVIDERS[cls.name] = cls
    return cls


def get(name: str) -> PaymentProvider:
    """A provider instance by name; ``KeyError`` for one not registered."""
    load_builtin()
    return _PROVIDERS[name]()


def names() -> list[str]:
    load_builtin()
    return sorted(_PROVIDERS)


def load_builtin() -> None:
    """Register the providers that ship with slotwise (on first use)."""
    from slotwise.payments.providers import stripe, venue  # noqa: F401
