"""Share links: a client or an invoice opened by a random token (issue 18)."""
