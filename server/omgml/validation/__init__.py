"""Data validation: a one-pass profile, a registry of checks, and data contracts (``validate_data``)."""
