FROM busybox
WORKDIR --from=x /a
