"""The built-in deterministic model (no API key needed); see `model`.

One module per group of roles (engineering, quality, delivery, management),
`turn` for reading a conversation, `text` for shared wording helpers and
`playbook` for choosing the role and the rules all roles share.
"""

from __future__ import annotations

from .model import OFFLINE_MODEL_NAME, OfflineModel, tool_call_id
from .playbook import PLAYS

__all__ = ["OFFLINE_MODEL_NAME", "PLAYS", "OfflineModel", "tool_call_id"]
