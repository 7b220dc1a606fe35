"""Errors of the model layer, in the platform's own terms.

The call errors (`ModelError` and its kinds) are part of the `ModelClient`
port and live there; they are re-exported here for the adapters.

Provider SDKs each raise their own exception zoo; the router (retry with
backoff, then fall back to the next model) only needs to know whether trying
again can help. So every adapter turns a provider failure into one of these,
with `retryable` set, and the runtime never imports an SDK to catch errors.

Messages are built by the adapters from what is safe to show: they never
carry the API key, even when a provider echoes it back in an error body.
"""

from __future__ import annotations

from ...ports.models import ModelError, ModelRateLimited, ModelRequestRejected, ModelUnavailable

__all__ = [
    "ModelConfigurationError",
    "ModelError",
    "ModelRateLimited",
    "ModelRequestRejected",
    "ModelUnavailable",
]


class ModelConfigurationError(ValueError):
    """The model settings cannot work (e.g. an endpoint without a model name).

    Raised at start-up, when the model clients are built, so a bad setting
    stops the process with a message naming the variable instead of failing
    the first run much later.
    """
