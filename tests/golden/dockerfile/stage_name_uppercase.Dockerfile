FROM busybox AS Builder
FROM builder
