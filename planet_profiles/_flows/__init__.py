"""Stage "get a token": one module per grant, each imported on first use (`_clients._REGISTRY`).

`authcode` (authorization code + PKCE, with `loopback` for the redirect), `device` (RFC 8628),
`password` (resource owner password), `client_credentials`, and `legacy` (Planet's email/password → API key).
"""
