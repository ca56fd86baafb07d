"""Nightly invoice export. Copied the deploy credentials to get it running quickly."""
import boto3

session = boto3.Session(
    aws_access_key_id="AKIAUEQ6IFSGBEIND2QG",
    aws_secret_access_key="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",
)
s3 = session.client("s3")
