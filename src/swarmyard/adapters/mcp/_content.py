"""A tool result's content blocks as text for a model.

Text is passed on as it is; what a text-only model cannot read (images,
audio, binary resources) becomes a short placeholder saying what was left
out, so the model knows the tool answered with it.
"""

from __future__ import annotations

import mcp_types as types

__all__ = ["render_block"]


def render_block(block: types.ContentBlock) -> str:
    if isinstance(block, types.TextContent):
        return block.text
    if isinstance(block, types.ImageContent | types.AudioContent):
        kind = "image" if isinstance(block, types.ImageContent) else "audio"
        return f"[{kind} {block.mime_type}, {len(block.data) * 3 // 4} bytes, not shown]"
    if isinstance(block, types.ResourceLink):
        return f"[resource link {block.uri}" + (f" ({block.name})" if block.name else "") + "]"
    resource = block.resource
    if isinstance(resource, types.TextResourceContents):
        return resource.text
    mime = f", {resource.mime_type}" if resource.mime_type else ""
    return f"[binary resource {resource.uri}{mime}, not shown]"
