FROM busybox AS one
