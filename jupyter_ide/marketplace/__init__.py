"""The extension store: signed packages with declared permissions, per-user installs."""
