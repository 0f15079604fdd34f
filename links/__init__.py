"""Auth Links of the customer's own: the record and its rules (model.py), and where links are kept (store*.py)."""
