"""Language servers in sandboxes, through jupyter-lsp's protocol (/lsp/status, /lsp/ws)."""
