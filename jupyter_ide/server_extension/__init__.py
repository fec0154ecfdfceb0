"""The Jupyter Server extension: app, settings, /ide page, health and the doctor CLI."""
