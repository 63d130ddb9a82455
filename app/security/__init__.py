"""Browser security: response headers (Content-Security-Policy and friends) and the endpoint
that receives the browser's policy violation reports."""
