"""The agent catalogue: the built-in role manifests and the rules for reading them.

The 13 built-in roles ship as TOML data files in ``manifests/``, the
built-in skill packs in ``skills/``; custom manifests and packs arrive
through the API or the CLI. Both go through the same
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
from .skill_packs import builtin_skill_packs, parse_skill_pack
from .view import Catalog

__all__ = [
    "Catalog",
    "Installed",
    "builtin_manifests",
    "builtin_skill_packs",
    "default_routing_rules",
    "dependants",
    "find_dependency_cycle",
    "load_manifest_file",
    "missing_dependencies",
    "parse_manifest",
    "parse_skill_pack",
    "route_task_type",
    "task_type_routes",
]
