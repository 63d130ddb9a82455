"""Browser security headers on every response: a Content-Security-Policy with a per-request
nonce, HSTS in production, and the small headers that switch off what the site never uses.

An own after_request hook rather than Flask-Talisman: the policy depends on settings (where
Stripe.js comes from) and is short enough to read in one place, while Talisman would add a
dependency that also redirects to HTTPS and rewrites cookie flags, which the TLS proxy and
app/config.py already do. A view that needs a stricter header sets it itself; it is kept.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, request

CSP_REPORT_PATH = "/csp-report"
# The name Reporting-Endpoints gives the report URL, for the policy's report-to directive.
REPORT_GROUP = "csp-endpoint"
NONCE_BYTES = 16
NONCE_ENVIRON_KEY = "kongres.csp_nonce"

# Real Stripe.js: the script, its frames (card fields, 3-D Secure) and the API it calls, as
# Stripe's security guide lists them. A stand-in (localstripe) serves all three itself.
STRIPE_JS_ORIGIN = "https://js.stripe.com"
STRIPE_SOURCES: dict[str, tuple[str, ...]] = {
    "script-src": ("https://js.stripe.com", "https://*.js.stripe.com"),
    "frame-src": ("https://js.stripe.com", "https://*.js.stripe.com", "https://hooks.stripe.com"),
    "connect-src": ("https://api.stripe.com",),
}

# The scanner needs the camera (and plays its beeps and the camera's video); nothing else
# asks for a powerful feature, so everything else is off, even for this site's own pages.
PERMISSIONS_POLICY = ", ".join(
    [
        "camera=(self)",
        "autoplay=(self)",
        *(
            f"{feature}=()"
            for feature in (
                "accelerometer",
                "display-capture",
                "encrypted-media",
                "fullscreen",
                "geolocation",
                "gyroscope",
                "hid",
                "magnetometer",
                "microphone",
                "midi",
                "payment",
                "picture-in-picture",
                "publickey-credentials-get",
                "screen-wake-lock",
                "serial",
                "usb",
                "xr-spatial-tracking",
            )
        ),
    ]
)


def csp_nonce() -> str:
    """This request's nonce for inline <script> tags (one per response, unguessable)."""
    # Kept in the request's environ, not in g: an application context (and its g) can outlive
    # one request, as when a CLI command or a test holds it around several.
    environ = request.environ
    if NONCE_ENVIRON_KEY not in environ:
        environ[NONCE_ENVIRON_KEY] = secrets.token_urlsafe(NONCE_BYTES)
    return environ[NONCE_ENVIRON_KEY]


def stripe_sources(js_url: str) -> dict[str, tuple[str, ...]]:
    """The origins Stripe.js needs per directive, for the Stripe.js address configured."""
    parts = urlsplit(js_url)
    if not parts.scheme or not parts.netloc:
        return dict.fromkeys(STRIPE_SOURCES, ())
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin == STRIPE_JS_ORIGIN:
        return STRIPE_SOURCES
    return dict.fromkeys(STRIPE_SOURCES, (origin,))


def content_security_policy(
    config: Mapping[str, Any], nonce: str, report_path: str, *, report_to: bool
) -> str:
    """The policy: own files only, scripts also by nonce and from Stripe, no framing."""
    stripe = stripe_sources(config["STRIPE_JS_URL"])
    directives: dict[str, tuple[str, ...]] = {
        "default-src": ("'self'",),
        "script-src": ("'self'", f"'nonce-{nonce}'", *stripe["script-src"]),
        # Style attributes carry computed positions (the programme grid's rows and columns,
        # track colours): allowed, while <style> elements must come from our own files.
        "style-src": ("'self'", "'unsafe-inline'"),
        "style-src-elem": ("'self'",),
        "img-src": ("'self'", "data:", "blob:"),
        "media-src": ("'self'", "blob:"),
        "worker-src": ("'self'",),
        "connect-src": ("'self'", *stripe["connect-src"]),
        "frame-src": stripe["frame-src"] or ("'none'",),
        "object-src": ("'none'",),
        "base-uri": ("'self'",),
        "form-action": ("'self'",),
        "frame-ancestors": ("'none'",),
        "report-uri": (report_path,),
    }
    if report_to:
        directives["report-to"] = (REPORT_GROUP,)
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


def add_security_headers(response: Response) -> Response:
    """Put the browser security headers on a response, keeping any a view set itself."""
    config = current_app.config
    report_path = request.script_root + CSP_REPORT_PATH
    policy_header = (
        "Content-Security-Policy-Report-Only"
        if config["CSP_REPORT_ONLY"]
        else "Content-Security-Policy"
    )
    # Chromium reports to report-to alone when the policy names it, and only to an HTTPS
    # endpoint: over plain HTTP (development) it would report nowhere, so report-uri only.
    # Firefox and Safari use report-uri either way.
    report_to = request.is_secure or config["PREFERRED_URL_SCHEME"] == "https"
    headers = response.headers
    headers.setdefault(
        policy_header,
        content_security_policy(config, csp_nonce(), report_path, report_to=report_to),
    )
    if report_to:
        headers.setdefault("Reporting-Endpoints", f'{REPORT_GROUP}="{report_path}"')
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if config["HSTS_MAX_AGE"] > 0:
        headers.setdefault("Strict-Transport-Security", f"max-age={config['HSTS_MAX_AGE']}")
    return response


def install_security_headers(app: Flask) -> None:
    """Send the headers on every response and offer csp_nonce() to templates."""
    app.after_request(add_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
