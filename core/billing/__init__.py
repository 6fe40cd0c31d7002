"""Time and invoices: clients, projects, work entries, invoices, their totals, PDFs and QR codes."""
