"""Blob storage (folder or S3) and S3 reference entries."""
