// The API's error shape, {"error": {code, message, details}}, as an Error
// the pages can show; failures that never reached the API get the same shape.

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message || "the request failed");
    this.name = "ApiError";
    this.status = status;
    this.code = code || "error";
    this.details = details;
  }

  /** The problems a validation error lists, as "path: reason" lines. */
  get problems() {
    if (!Array.isArray(this.details)) return [];
    return this.details
      .filter((p) => p && typeof p === "object" && "reason" in p)
      .map((p) => (p.path ? `${p.path}: ${p.reason}` : String(p.reason)));
  }
}

export async function errorFrom(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy or the browser answered, not the API.
  }
  const error = body && typeof body === "object" ? body.error : null;
  if (error && typeof error === "object") {
    return new ApiError(response.status, error.code, error.message, error.details ?? null);
  }
  const text = response.statusText ? ` ${response.statusText}` : "";
  return new ApiError(response.status, "http_error", `the server answered ${response.status}${text}`);
}

export function networkError(cause) {
  const reason = cause && cause.message ? ` (${cause.message})` : "";
  return new ApiError(0, "network_error", `cannot reach the Swarmyard server${reason}; check the connection and try again`);
}

/** A readable sentence for any thrown value. */
export function messageOf(err) {
  if (err instanceof ApiError) return err.message;
  if (err instanceof Error) return err.message || String(err);
  return String(err);
}
