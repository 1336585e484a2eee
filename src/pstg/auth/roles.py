"""Roles, lowest to highest: each role may do everything the ones below it may.

- viewer: read devices, tags, time series, events, metrics;
- operator: + acknowledge and shelve alarms, send commands;
- engineer: + read and change the station config;
- admin: + manage users and API tokens.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

RoleName = Literal["viewer", "operator", "engineer", "admin"]
"""A role as users and the API write it."""


class Role(IntEnum):
    """Ordered so that `principal.role >= Role.OPERATOR` reads as "at least operator".

    The numbers are stored in the database (users.role): never renumber.
    """

    VIEWER = 1
    OPERATOR = 2
    ENGINEER = 3
    ADMIN = 4

    @property
    def label(self) -> RoleName:
        """The lowercase name: "viewer", "operator", "engineer" or "admin"."""
        name: RoleName = self.name.lower()  # type: ignore[assignment]
        return name

    def __str__(self) -> str:
        return self.label

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named `text` (any case); ValueError listing the names otherwise."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown role {text!r}; use one of {', '.join(ROLE_NAMES)}") from None


ROLE_NAMES: tuple[RoleName, ...] = tuple(role.label for role in Role)
"""The role names, lowest first."""
