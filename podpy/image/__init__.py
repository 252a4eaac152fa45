"""Images: references, the content store (blobs by digest), manifests/configs, the image index, archives."""
