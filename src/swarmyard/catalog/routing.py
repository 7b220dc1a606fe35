"""The routing rules that ship with the platform (``routing.toml``)."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

from ..domain.routing import RoutingRules

__all__ = ["default_routing_rules"]


@cache
def default_routing_rules() -> RoutingRules:
    text = resources.files(__package__).joinpath("routing.toml").read_text(encoding="utf-8")
    return RoutingRules.model_validate(tomllib.loads(text))
