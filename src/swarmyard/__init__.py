"""Swarmyard: a self-hosted platform for teams of role-based AI agents."""

__version__ = "0.1.0"
__all__ = ["__version__"]
