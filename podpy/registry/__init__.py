"""Distribution-spec client: transport (TLS, retries, auth), manifests and blobs, credentials, registries.conf.

Nothing here imports the engine or the CLI. HTTP is spoken by wire.py (sockets + ssl), not requests.
"""
