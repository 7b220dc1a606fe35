"""Errors of the model layer, in the platform's own terms.

Provider SDKs each raise their own exception zoo; the router (retry with
backoff, then fall back to the next model) only needs to know whether trying
again can help. So every adapter turns a provider failure into one of these,
with `retryable` set, and the runtime never imports an SDK to catch errors.

Messages are built by the adapters from what is safe to show: they never
carry the API key, even when a provider echoes it back in an error body.
"""

from __future__ import annotations

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


class ModelError(Exception):
    """A model call failed.

    `retryable`: whether sending the same request again (after a pause) may
    succeed. `status_code` is the HTTP status when there was one;
    `retry_after` the pause in seconds the provider asked for, if it did.
    """

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        model: str = "",
        status_code: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.model = model
        self.status_code = status_code
        self.retry_after = retry_after
        if retryable is not None:
            # Per instance: e.g. an exhausted quota is a 429 that waiting will not cure.
            self.retryable = retryable


class ModelUnavailable(ModelError):
    """The endpoint could not serve the request now: connection refused or
    reset, timeout, HTTP 5xx, or a malformed response. Retrying may help."""

    retryable = True


class ModelRateLimited(ModelError):
    """The provider throttled us (HTTP 429). Retry after `retry_after`, or
    fall back; an exhausted quota is raised with ``retryable=False``."""

    retryable = True


class ModelRequestRejected(ModelError):
    """The provider refused this request itself (HTTP 4xx other than 429:
    bad request, bad credentials, unknown model, context too long). Sending
    it again unchanged will fail the same way; another model may accept it."""

    retryable = False
