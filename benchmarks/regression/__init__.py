"""Cross-validated R^2 of the regressor on offline tables (``regression``)."""
