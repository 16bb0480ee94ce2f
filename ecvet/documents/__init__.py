"""Documents for people: each record as one structure, exported as JSON, HTML and PDF."""
