"""The REST API, /api/v1/: the same selectors, services and permissions as the web pages.

This package holds what every endpoint shares (tokens, errors, pagination, the
access rule) and the forum's endpoints; requests_board/api.py holds the board's.
"""
