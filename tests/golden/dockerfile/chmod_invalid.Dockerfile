FROM busybox
COPY --chmod=0999 a /a
