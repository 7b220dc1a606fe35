"""The agent catalogue: the built-in role manifests and the rules for reading them.

The 13 built-in roles ship as TOML data files in ``manifests/``; custom
manifests arrive through the API or the CLI. Both go through the same
validation, and `Catalog` combines them into the view a workspace's
marketplace, registry and orchestrator share.
"""

from .dependencies import Installed, dependants, find_dependency_cycle, missing_dependencies
from .loader import (
    builtin_manifests,
    load_manifest_file,
    parse_manifest,
    route_task_type,
    task_type_routes,
)
from .routing import default_routing_rules
from .view import Catalog

__all__ = [
    "Catalog",
    "Installed",
    "builtin_manifests",
    "default_routing_rules",
    "dependants",
    "find_dependency_cycle",
    "load_manifest_file",
    "missing_dependencies",
    "parse_manifest",
    "route_task_type",
    "task_type_routes",
]
