"""Segments: which customers. The filter model (segments/filters.py), applied to people
(segments/query.py), saved and shared (segments/models.py), and the People page that builds it.
Above feed in the import direction (it reads events' counts), below api."""
