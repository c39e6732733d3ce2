// Calling the JSON API from a page with the session's cookie and Django's CSRF token.
// CSRF stays on for session requests: the token comes from the csrftoken cookie (current even
// after a log-in in another tab rotated it), else from <meta name="csrf-token">.

const TIMEOUT_MS = 20000;

/** A request that never reached the server, or whose answer never came back. */
export class NetworkError extends Error {
  constructor(message, cause) {
    super(message);
    this.name = "NetworkError";
    this.cause = cause;
  }
}

/** An answer in the API's one error shape: {"error": {"code", "message", "details"}}. */
export class ApiError extends Error {
  constructor(status, error) {
    super(error?.message || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.code = error?.code || "error";
    this.details = error?.details || [];
    this.error = error || {};
  }
}

export function csrfToken(doc = document) {
  const cookie = doc.cookie
    .split(";")
    .map((c) => c.trim())
    .find((c) => c.startsWith("csrftoken="));
  if (cookie) return decodeURIComponent(cookie.slice("csrftoken=".length));
  return doc.querySelector('meta[name="csrf-token"]')?.content || "";
}

/**
 * Send one request; resolves to {status, body} for every HTTP answer (errors included) and
 * rejects with NetworkError when there was none (offline, reset, timeout).
 */
export async function request(method, url, body = null) {
  const headers = { Accept: "application/json" };
  if (method !== "GET" && method !== "HEAD") headers["X-CSRFToken"] = csrfToken();
  if (body !== null) headers["Content-Type"] = "application/json";
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), TIMEOUT_MS);
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === null ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
      signal: controller.signal,
    });
  } catch (error) {
    throw new NetworkError(
      error.name === "AbortError" ? "The server did not answer in time." : "No connection.",
      error,
    );
  } finally {
    clearTimeout(timer);
  }
  let parsed = null;
  try {
    const text = await response.text();
    parsed = text ? JSON.parse(text) : null;
  } catch {
    // A proxy's HTML error page, or a body cut off: the status still says what happened.
    if (response.ok) throw new NetworkError("The answer was cut off.");
  }
  return { status: response.status, body: parsed };
}

/** Like ``request``, but resolves to the body of a 2xx answer and throws ApiError otherwise. */
export async function api(method, url, body = null) {
  const { status, body: parsed } = await request(method, url, body);
  if (status >= 200 && status < 300) return parsed;
  throw new ApiError(status, parsed?.error);
}
