"""Drift: does new data still look like the data a model was built on?

``service.check_drift`` compares a current table with a reference (a data file or a saved
profile), one column at a time, with the test the selection table picks, effect size first.
"""
