"""The values every part shares: money, dates, typed-input checks, form errors, locale formatting."""
