FROM busybox AS scratch
