"""settings.STORAGES for S3-compatible object storage: one bucket, public files under `public/`, private ones
under `private/`. Built here once, for marketplace/settings.py and for the tests' local S3 server alike; it imports
nothing of Django's, so settings can use it."""

from urllib.parse import urlsplit


def s3_storages(
    *,
    bucket: str,
    endpoint_url: str = "",
    region: str = "",
    access_key: str = "",
    secret_key: str = "",
    addressing_style: str = "",
    public_url: str = "",
) -> dict:
    from boto3.s3.transfer import TransferConfig

    # Large uploads go up in 5 MB parts (S3's smallest), two at a time, at most two read ahead (boto3 would
    # buffer ten): a worker's memory stays bounded whatever the size.
    transfer = TransferConfig(multipart_chunksize=5 * 1024 * 1024, max_concurrency=2)
    transfer.max_in_memory_upload_chunks = 2
    options = {
        "bucket_name": bucket,
        "endpoint_url": endpoint_url or None,
        "region_name": region or None,
        "access_key": access_key or None,  # None: boto3's own AWS_* variables or the instance's role
        "secret_key": secret_key or None,
        "addressing_style": addressing_style or ("path" if endpoint_url else "auto"),
        "signature_version": "s3v4",
        "transfer_config": transfer,
    }
    public = dict(options)
    parts = urlsplit(public_url)
    if parts.scheme in ("http", "https") and parts.netloc:  # anything else is refused by marketplace/checks.py
        public.update(custom_domain=(parts.netloc + parts.path).rstrip("/"), url_protocol=f"{parts.scheme}:")
    return {
        "default": {"BACKEND": "marketplace.storage.PublicS3Storage", "OPTIONS": public},
        "private": {"BACKEND": "marketplace.storage.PrivateS3Storage", "OPTIONS": options},
    }
