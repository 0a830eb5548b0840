"""Streamlit dashboard: `dashboard.py` routes, `pages/` render, `data.py` caches reads of `app.*`."""

__all__: list[str] = []
