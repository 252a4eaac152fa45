FROM busybox
USER ${NAME
