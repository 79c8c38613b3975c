"""The REST API, /api/v1/: the same selectors, services and permissions as the web pages.

This package holds what every endpoint shares (tokens, errors, pagination, the
access rule, the input helpers of `helpers`) and the forum's endpoints;
requests_board/api/ holds the board's, and config/api_urls.py puts them together.
"""
