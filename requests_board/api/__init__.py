"""The requests board's REST endpoints under /api/v1/: `serializers`, `views`, `urls` (included by
the API's root, config/api_urls.py) and `examples` for the documentation page."""
