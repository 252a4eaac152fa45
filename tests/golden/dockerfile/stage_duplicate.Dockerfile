FROM busybox AS b
FROM alpine AS B
