"""HTTP layer: parse, authorise, call one domain action, serialise. No SQL here."""
