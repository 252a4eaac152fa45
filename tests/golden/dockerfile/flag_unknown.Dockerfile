FROM busybox
COPY --frmo=x a b
