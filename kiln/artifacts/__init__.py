"""Artifact repositories: local folders, S3 and the server's proxy."""
