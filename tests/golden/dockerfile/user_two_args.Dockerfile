FROM busybox
USER a b
