FROM busybox
WORKDIR ${}
