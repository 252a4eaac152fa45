"""Named volumes: records and data under <root>/volumes, driver options, copy-up from images.

Engine-free: the engine's VolumeService (podpy.engine.volumes) and mount resolution
(podpy.engine.mounts, podpy.engine.mount_resolution) build on these pieces.
"""
