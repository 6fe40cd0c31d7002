"""Bank movements: reading statement formats and matching incoming payments to invoices."""
