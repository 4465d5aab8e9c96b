"""Data engine: recognise table files, read their shape cheaply, fingerprint them."""
