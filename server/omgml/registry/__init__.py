"""The model registry: compare the champion with challengers, promote on evidence, roll back.

Importing this package is cheap: scoring, scikit-learn and MLflow load on first use.
"""
