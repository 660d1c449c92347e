"""Data residency and the transparency log (issue #3): regions, and proofs an auditor can check."""
