"""WSGI entry point: `gunicorn 'wsgi:create_app()'` builds one app per worker (no --preload)."""

from app import create_app

__all__ = ["create_app"]
