FROM busybox AS one
FROM busybox AS two
COPY --from=one /a /a
FROM busybox AS three
COPY --from=two /a /a
FROM busybox AS four
