"""Suggested answers from a brand's own history (issue 16, point 3).

`entries` stores the history (an import, and each reply the desk sends); `rank` ranks earlier
replies and templates for a ticket, pure Python; `suggest` is the route's use case;
`python -m chalicelib.history import FILE` imports a brand's earlier conversations (`__main__`).
Nothing here is imported at this package's import: each caller imports the module it needs.
"""
