"""Distribution-spec client: transport (TLS, retries, auth), manifests and blobs, credentials, registries.conf.

Nothing here imports the engine or the CLI; requests is imported only when a registry is contacted.
"""
