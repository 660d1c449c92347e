"""Data residency: the signed, append-only transparency log an auditor can check, and a person's data rights
(export and erasure) across regions."""
